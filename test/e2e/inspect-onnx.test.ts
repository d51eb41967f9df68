import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../fixtures/run-cli.js";
import { realOnnxModels } from "../fixtures/onnx-test-models.js";
import { makeTempDir } from "../fixtures/temp-dir.js";



describe("edgeforge inspect on ONNX (built CLI)", () => {
  it("--json prints the versioned record on stdout with the ONNX fields", async () => {
    const result = await runCli(["inspect", realOnnxModels.rec, "--shape", "x=1x3x48x320", "--json"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.schemaVersion).toBe(1);
    expect(report.model).toMatchObject({ format: "onnx", parameterCount: 2_690_312, architecture: "cnn", irVersion: 8 });
    expect(report.model.macs).toMatchObject({ unresolvedNodes: 0, resolvedNodes: 51, inputShapes: { x: [1, 3, 48, 320] } });
    expect(report.model.macs.total).toBeGreaterThan(0);
    expect(report.model.memory.method).toMatch(/^estimate/);
  });

  it("prints the human rendering on stderr only", async () => {
    const result = await runCli(["inspect", realOnnxModels.vad]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/architecture\s+rnn-lstm/);
    expect(result.stderr).toMatch(/nodes\s+250 in 19 graphs \(18 subgraphs\)/);
  });

  it("maps bad input to error[CODE] and a non-zero exit", async () => {
    const dir = await makeTempDir("e2e-onnx-");
    try {
      const random = join(dir, "random.onnx");
      await writeFile(random, Uint8Array.from({ length: 512 }, (_, i) => (i * 97 + 13) % 256));
      const corrupt = await runCli(["inspect", random]);
      expect(corrupt.code).not.toBe(0);
      expect(corrupt.stderr).toContain("error[CORRUPT_MODEL]");
      const badShape = await runCli(["inspect", realOnnxModels.rec, "--shape", "nope=1x2"]);
      expect(badShape.code).not.toBe(0);
      expect(badShape.stderr).toContain("error[INVALID_SHAPE]");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
