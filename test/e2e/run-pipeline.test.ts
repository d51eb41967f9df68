import { access, readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { readGgufAsHf, writeGgufAsHfFolder } from "../../src/passes/hf/export-gguf-as-hf.js";
import { realOnnxModels } from "../fixtures/onnx-test-models.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { runCli } from "../fixtures/run-cli.js";
import { useTempDir } from "../fixtures/temp-dir.js";


const temp = useTempDir("pipeline-");

const pipeline = (name: string, validation: string): string => `schemaVersion: 1
name: ${name}
model: ${resolve(realOnnxModels.cls)}
target: local
output: ./${name}
stages:
  validation:
${validation}
  optimization:
    candidates: { passes: [onnx.quantize.int8-dynamic], passOptions: { onnx.quantize.int8-dynamic: { perChannel: true, weightType: uint8 } }, threads: [1], graphOptimizationLevels: [all] }
    search: { maxCandidates: 2 }
    measurement: { runs: 5, warmupRuns: 1, shapes: { x: [1, 3, 48, 192] } }
    cache: { dir: ./cache }
  testing:
    gates: { list: [{ metric: accuracyRetention, value: 0.9 }] }
    # Generous on purpose: this checks that the re-measurement is made and compared; the test suite
    # runs files in parallel on few cores, where timings of a 1 ms model move by several times.
    verifyRecommended: { runs: 10, tolerancePercent: 5000 }
  packaging:
    dir: package
`;

describe("edgeforge run PIPELINE.yaml (built CLI)", () => {
  it("runs validation, optimization, testing and packaging, and ships a manifest with hashes", async () => {
    const file = temp.join("ok.yaml");
    await writeFile(file, pipeline("ok", "    requireFit: true\n    maxSizeBytes: 5MB\n    smokeTest: true"));
    const result = await runCli(["run", file], { timeoutMs: 300_000 });
    expect(result.stderr).toContain("pipeline ok: passed");
    expect(result.code).toBe(0);
    const summary = JSON.parse(await readFile(temp.join("ok", "pipeline.json"), "utf8"));
    expect(summary.stages.map((s: { stage: string; status: string }) => `${s.stage}:${s.status}`)).toEqual([
      "validation:passed",
      "optimization:passed",
      "testing:passed",
      "packaging:passed",
    ]);
    expect(summary.stages[2].notes.join("\n")).toMatch(/ok: re-measured p50 [\d.]+ ms vs reported [\d.]+ ms/);
    const manifest = JSON.parse(await readFile(temp.join("ok", "package", "manifest.json"), "utf8"));
    expect(manifest.kind).toBe("edgeforge.package");
    expect(manifest.files.map((f: { name: string }) => f.name)).toEqual(expect.arrayContaining(["report.json", "report.html", "junit.xml"]));
    expect(manifest.files.every((f: { sha256: string }) => /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true);
    await access(temp.join("ok", "package", "report.html"));
  }, 300_000);

  it("a failed validation stops the pipeline with exit 3 and skips the later stages", async () => {
    const file = temp.join("too-big.yaml");
    await writeFile(file, pipeline("too-big", "    maxSizeBytes: 1KB\n    smokeTest: false"));
    const result = await runCli(["run", file], { timeoutMs: 120_000 });
    expect(result.code).toBe(3);
    const summary = JSON.parse(await readFile(temp.join("too-big", "pipeline.json"), "utf8"));
    expect(summary.stages.map((s: { status: string }) => s.status)).toEqual(["failed", "skipped", "skipped", "skipped"]);
    expect(summary.stages[0].notes.join("\n")).toContain("FAIL: size");
  });

  it("smokeTest on a Hugging Face folder says where the model is first run (no runtime runs the folder), not nothing", async () => {
    const folder = temp.join("tiny-fortunes-hf");
    await writeGgufAsHfFolder(await readGgufAsHf(sharedModels.tinyLlamaF16), folder);
    const file = temp.join("hf.yaml");
    await writeFile(file, pipeline("hf", "    maxSizeBytes: 1KB\n    smokeTest: true").replace(`model: ${resolve(realOnnxModels.cls)}`, `model: ${folder}`));
    const result = await runCli(["run", file], { timeoutMs: 120_000 });
    expect(result.code).toBe(3);
    const summary = JSON.parse(await readFile(temp.join("hf", "pipeline.json"), "utf8"));
    expect(summary.stages[0].notes).toContain("smoke test: no runtime runs a Hugging Face folder as it is; the optimization stage converts it to GGUF and runs the conversion once in llama.cpp before measuring it (hf.convert.gguf's run check)");
  });

  it("a pipeline file with an unknown stage is INVALID_CONFIG", async () => {
    const file = temp.join("bad.yaml");
    await writeFile(file, "schemaVersion: 1\nname: bad\nmodel: m.onnx\noutput: out\nstages:\n  deploy: {}\n");
    const result = await runCli(["run", file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("error[INVALID_CONFIG]");
    expect(result.stderr).toContain("deploy");
  });
});
