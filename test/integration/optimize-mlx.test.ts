import { describe, expect, it } from "vitest";
import { optimize } from "../../src/api/optimize.js";
import { heldoutText, tinyLlamaF16 } from "../fixtures/llm-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";

const temp = useTempDir("optimize-mlx-");

describe("optimize measures MLX candidates in MLX itself (node-mlx on this CPU)", () => {
  it("tiny-fortunes with --pass mlx.export: the 8-bit MLX folder measured side by side on tokens/s, memory, perplexity and KL against the F16 GGUF", async () => {
    const report = await optimize({
      model: tinyLlamaF16, output: temp.join("out"), target: "local", passes: ["mlx.export"], passOptions: { "mlx.export": { bits: 8 } }, threads: [1], contextSize: 128, memorySettings: false,
      evaluation: heldoutText, evalLimit: 1, runs: 2, warmupRuns: 1, shapes: { tokens: [32] }, noDefaultGates: true, cacheDir: temp.join("cache"),
    });
    const mlx = report.candidates.filter((c) => c.passes.some((p) => p.passId === "mlx.export"));
    // One candidate keeps the test near a minute (4-bit takes as long again; mlx-in-mlx.test.ts checks both widths).
    expect(mlx.map((c) => [c.id, c.status, c.runtime.runtime])).toEqual([["mlx", "measured", "mlx"]]);
    for (const candidate of mlx) {
      const { metrics } = candidate;
      expect(metrics.promptTokensPerSec).toBeGreaterThan(0);
      // Generation through MLX's KV cache, decided on as for a GGUF candidate; prompt tokens/s beside it.
      expect(metrics.tokensPerSec).toBeGreaterThan(0);
      expect(metrics.speedup).toBeGreaterThan(0);
      expect(metrics.promptSpeedup).toBeGreaterThan(0);
      expect(metrics.peakRssBytes).toBeGreaterThan(0);
      // Against llama.cpp's F16 on the same tokens (1 chunk × 63 scored): the bounds mlx-in-mlx.test.ts states.
      expect(metrics.perplexity).toBeGreaterThan(1);
      expect(metrics.top1Agreement).toBeGreaterThanOrEqual(0.85);
      expect(candidate.sideBySide?.ratios.map((r) => r.metric.split(" (")[0])).toEqual(["generation tokens/s ratio", "prompt tokens/s ratio"]);
      expect(candidate.sideBySide?.ratios[0]?.ratio).toBe(metrics.speedup);
      expect(candidate.evaluationMethod).toContain("MLX (node-mlx, CPU) perplexity");
      // One memory basis for both sides: MLX reports no allocation, so not its RSS against llama.cpp's allocation report.
      const memory = candidate.sideBySide?.memory;
      expect(memory?.memoryReductionBasis).toMatch(/peak RSS minus a reference process.*on both sides/);
      expect(metrics.memoryReduction).toBeCloseTo(1 - (memory?.candidateMemoryOnBasisBytes as number) / (memory?.baselineModelMemoryBytes as number), 9);
    }
    // Measured 2e-5 (and 0.0054 for 4-bit) on one 128-token chunk.
    expect(mlx[0]?.metrics.klDivergence).toBeGreaterThan(0);
    expect(mlx[0]?.metrics.klDivergence).toBeLessThan(1e-3);
    // A recommended MLX folder is copied whole under OUTDIR/recommended/NAME/.
    if (report.recommendation.candidateId?.startsWith("mlx")) expect(report.outputs.recommendedArtifact).toMatch(/recommended\/[^/]+-mlx-8bit-g64$/);
  }, 600_000);
});
