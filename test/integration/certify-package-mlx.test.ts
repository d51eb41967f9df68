import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { certify } from "../../src/api/certify.js";
import { convertModel } from "../../src/api/llm.js";
import { packageArtifact, type MobileBundleManifest } from "../../src/api/package.js";
import { keygen, verifyArtifactSignature } from "../../src/api/signing.js";
import { EdgeforgeError } from "../../src/core/errors.js";
import { Registry } from "../../src/registry/registry.js";
import type { Certification } from "../../src/workflow/certify/run-certify.js";
import { writeReportFromAnotherMachine } from "../fixtures/certify-report.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";

const temp = useTempDir("edgeforge-mlx-certify-");

/**
 * iOS with MLX int4 end to end: tiny-fortunes exported to an MLX int4 folder, certified against the
 * GGUF it came from (report from another machine, so everything is re-measured here on node-mlx and
 * llama.cpp), signed, registered with its lineage, then packaged for iOS under the 50 MB budget.
 */
describe("certify and package an MLX int4 folder (tiny-fortunes)", () => {
  let folder: string;
  let publicKey: string;
  let c: Certification;
  let certificationDir: string;

  beforeAll(async () => {
    certificationDir = temp.join("certification");
    const privateKey = temp.join("release.pem");
    publicKey = (await keygen({ output: privateKey })).publicKeyPath;
    folder = temp.join("fortunes-mlx-4bit");
    await convertModel(sharedModels.tinyLlamaF16, { to: "mlx", bits: 4, groupSize: 64, output: folder });
    const registryPath = temp.join("registry.db");
    const registry = Registry.open(registryPath);
    try {
      await registry.addVersion({ model: "fortunes-mlx", path: folder, parentPath: sharedModels.tinyLlamaF16, command: "convert --to mlx", passes: [{ passId: "mlx.export", passVersion: "1", options: { bits: 4, groupSize: 64 } }] });
    } finally {
      registry.close();
    }
    const report = temp.join("report.json");
    await writeReportFromAnotherMachine(report, {
      input: sharedModels.tinyLlamaF16, inputFormat: "gguf", artifact: folder, format: "mlx", pass: { passId: "mlx.export", options: { bits: 4, groupSize: 64 } },
      runtime: { runtime: "mlx", threads: 1, contextSize: 128 }, baselineRuntime: { runtime: "llama-cpp", threads: 1, contextSize: 128 },
      gates: ["accuracyRetention >= 50%"], p99Ms: 5000,
    });
    const requirements = temp.join("requirements.yaml");
    await writeFile(requirements, [
      "latency: { p99Ms: 20000, p95Ms: 10000 }",
      "stress: { maxConcurrency: 2, expectedConcurrency: 1, durationMs: 300 }",
      "robustness: { samples: 1, maxDegradation: 5 }",
      `evaluation: { text: ${JSON.stringify(sharedModels.heldoutText)}, maxChunks: 1 }`,
      "compliance: { licence: BSD-3-Clause, producer: edgeforge tests }",
      "performance: { minRounds: 2, maxRounds: 2, blockMs: 50 }",
      "security: { requireRegistryLineage: true }",
      "",
    ].join("\n"));
    c = await certify({ artifact: folder, report, output: certificationDir, key: privateKey, requirements, registry: registryPath });
  }, 600_000);

  it("certify runs accuracy, performance, robustness, stress, signature and lineage on the folder, and names what cannot apply", async () => {
    expect(c.artifact.format).toBe("mlx");
    expect(c.remeasured).toBe(true);
    // accuracy: perplexity, KL and top-1 against the source GGUF on the same tokens (as optimize measures MLX)
    expect(c.accuracy.source).toBe("re-measured");
    expect(c.accuracy.method).toContain("MLX (node-mlx, CPU) perplexity");
    expect(c.accuracy.metrics.perplexity).toBeGreaterThan(1);
    expect(c.accuracy.metrics.klDivergence).toBeGreaterThan(0);
    expect(c.accuracy.metrics.top1Agreement).toBeGreaterThan(0);
    expect(c.accuracy.metrics.top1Agreement).toBeLessThanOrEqual(1);
    expect(c.accuracy.gates.map((g) => [g.metric, g.passed])).toEqual([["accuracyRetention", true]]);
    // performance: the folder on node-mlx side by side with the GGUF on llama.cpp, on generation tokens/s (as optimize decides), prompt tokens/s beside it
    expect(c.performance.source).toBe("re-measured");
    expect(c.performance.metrics.promptTokensPerSec).toBeGreaterThan(0);
    expect(c.performance.baselineMetrics.promptTokensPerSec).toBeGreaterThan(0);
    expect(c.performance.metrics.tokensPerSec).toBeGreaterThan(0);
    expect(c.performance.baselineMetrics.tokensPerSec).toBeGreaterThan(0);
    expect(c.performance.speedupInterval?.pairs).toBe(2);
    expect(c.performance.method).toContain("generation tokens/s of the MLX folder (node-mlx) over the input GGUF's (llama.cpp), tokens decoded one at a time through the KV cache");
    // memory on one basis for both sides: node-mlx reports no allocation, so RSS over a reference process on both
    expect(c.performance.method).toContain("memoryReduction basis: peak RSS minus a reference process");
    expect(Number.isFinite(c.performance.metrics.memoryReduction)).toBe(true);
    // robustness on token chunks of the held-out text (tokenized by the source GGUF), stress with CPU time
    expect(c.robustness.inputs).toMatch(/^1 chunks of 128 tokens from /);
    expect(c.robustness.perturbations.map((p) => p.name)).toEqual(["token-dropout"]);
    expect(c.robustness.badInputs.length).toBeGreaterThanOrEqual(4);
    expect(c.robustness.badInputs.every((b) => b.passed)).toBe(true);
    expect(c.stress.method).toContain("MLX (node-mlx");
    expect(c.stress.levels.map((l) => l.concurrency)).toEqual([1, 2]);
    expect(c.stress.levels.reduce((sum, l) => sum + l.errors, 0)).toBe(0);
    for (const level of c.stress.levels) {
      expect(level.requests).toBeGreaterThan(0);
      expect(level.cpuMsPerRequest).toBeGreaterThan(0);
    }
    // lineage from the registry, the compliance runtime, and the checks that do not apply, said
    expect(c.security.externalData).toMatchObject({ files: ["model.safetensors"], insideModelFolder: true });
    expect(c.security.registryLineage).toMatchObject({ checked: true, registered: true, ancestors: 1 });
    expect(c.compliance).toMatchObject({ runtime: "mlx", loadedByRuntime: true });
    expect(c.approval.checks.map((check) => check.name)).not.toContain("known op domains only");
    expect(c.notApplicable.map((n) => `${n.section}: ${n.name}`)).toEqual(expect.arrayContaining(["security: known op domains only", "compliance: IR version and opsets"]));
    expect(c.notApplicable.map((n) => n.name)).not.toContain("generation tokens/s");
    expect(c.approval.failed).toEqual([]);
    expect(c.approval.approved).toBe(true);
    // the OMS signature covers every file of the folder
    const verified = await verifyArtifactSignature(folder, join(certificationDir, "fortunes-mlx-4bit.sig"), await readFile(publicKey, "utf8"));
    expect(verified.resources.map((r) => r.name)).toEqual(expect.arrayContaining(["config.json", "model.safetensors", "tokenizer.json"]));
  });

  it("package --target ios: the certified MLX int4 folder within the 50 MB bundle budget; over a smaller budget it fails with the numbers", async () => {
    const out = temp.join("ios");
    const result = await packageArtifact({ artifact: folder, certification: certificationDir, target: "ios", output: out, key: publicKey });
    const bundle = JSON.parse(await readFile(join(out, "bundle-manifest.json"), "utf8")) as MobileBundleManifest;
    expect(bundle.model).toMatchObject({ format: "mlx", quantization: "int4" });
    expect(bundle.size.budgetBytes).toBe(50_000_000);
    expect(bundle.size.totalBytes).toBe(c.artifact.sizeBytes);
    expect(bundle.size.totalBytes).toBeLessThan(50_000_000);
    expect(bundle.runtime.certifiedWith).toBe(`mlx ${c.compliance.runtimeVersion}`);
    expect(bundle.checks.filter((check) => check.required).every((check) => check.passed)).toBe(true);
    expect(bundle.checks.filter((check) => !check.passed).map((check) => check.name)).toEqual([]);
    // the packaged folder is the certified one: its carried signature verifies it
    await verifyArtifactSignature(join(out, "model", "fortunes-mlx-4bit"), join(out, "model", "fortunes-mlx-4bit.sig"), await readFile(publicKey, "utf8"));
    expect(result.files.filter((f) => f.role === "model").map((f) => f.path)).toContain("model/fortunes-mlx-4bit/model.safetensors");

    const tight = await packageArtifact({ artifact: folder, certification: certificationDir, target: "ios", output: temp.join("ios-tight"), budgetBytes: 1_000_000 }).catch((e: unknown) => e);
    expect(EdgeforgeError.isInstance(tight) && tight.code).toBe("BUDGET_EXCEEDED");
    expect((tight as EdgeforgeError).message).toContain("vs 1,000,000 B");
  });
});
