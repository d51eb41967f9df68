import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Report } from "../../src/reports/report.js";
import { runCli } from "../fixtures/run-cli.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";

const model = sharedModels.tinyLlamaF16;
const text = sharedModels.heldoutText;

const temp = useTempDir("optimize-llm-");

describe("edgeforge optimize on a GGUF LLM (built CLI)", () => {
  it("keeps to the memory budget, picks a llama.cpp type within it, and reports KL divergence and tokens/s", async () => {
    const output = temp.join("out");
    // 7.5 MB at a 128-token context: by estimate F16 (≈13.9 MB) and Q8_0 (≈8.7 MB) do not fit, Q4_K_M and Q4_0 (≈6.3 MB) do.
    const result = await runCli(
      [
        "optimize", model, "-o", output, "--target", "local", "--memory-budget", "7.5MB",
        "--gguf-types", "Q8_0,Q4_K_M,Q4_0", "--threads", "1", "--ctx", "128",
        "--eval", text, "--eval-limit", "2", "--runs", "3", "--warmup", "1", "--shape", "tokens=32",
        "--no-default-gates", "--gate", "klDivergence <= 0.05", "--cache-dir", temp.join("cache"),
      ],
      { timeoutMs: 300_000 },
    );
    expect(result.stderr).toContain("Recommended:");
    expect(result.code).toBe(0);
    const report = JSON.parse(await readFile(join(output, "report.json"), "utf8")) as Report;
    expect(report.plan.skipped.find((s) => s.label === "gguf.quantize Q8_0")?.reason).toContain("exceeds");
    // Each type also at llama.cpp's memory setting, a 64-token batch (the input model too: the setting's own effect).
    expect(report.candidates.map((c) => c.id)).toEqual(["f16-1t", "f16-1t-b64", "q4_k_m-1t", "q4_k_m-1t-b64", "q4_0-1t", "q4_0-1t-b64"]);
    const computeBytes = (id: string) => report.candidates.find((c) => c.id === id)?.sideBySide?.memory.parts?.find((p) => p.name === "compute buffers")?.bytes as number;
    // The compute buffer is sized by the batch: 64 of the context's 128 tokens.
    expect(computeBytes("q4_0-1t-b64")).toBeLessThan(0.75 * computeBytes("q4_0-1t"));
    expect(report.candidates.find((c) => c.id === "q4_0-1t-b64")?.runtime.batchSize).toBe(64);
    // The evaluation does not use the batch: one perplexity per type, shared.
    expect(report.candidates.find((c) => c.id === "q4_0-1t-b64")?.metrics.perplexity).toBe(report.candidates.find((c) => c.id === "q4_0-1t")?.metrics.perplexity);
    const recommended = report.candidates.find((c) => c.id === report.recommendation.candidateId);
    expect(["q4_k_m-1t", "q4_0-1t", "q4_k_m-1t-b64", "q4_0-1t-b64"]).toContain(recommended?.id);
    expect(recommended?.metrics.estimatedRunBytes).toBeLessThanOrEqual(7.5e6);
    expect(recommended?.metrics.klDivergence).toBeGreaterThan(0);
    expect(recommended?.metrics.tokensPerSec).toBeGreaterThan(0);
    // Speed is compared side by side on generation and prompt tokens/s against the F16 input model, with intervals.
    // (A candidate at other settings than the default's also has both against the input model at its own settings.)
    expect([...new Set(recommended?.sideBySide?.ratios.map((r) => r.metric.split(" (")[0]))]).toEqual(["generation tokens/s ratio", "prompt tokens/s ratio"]);
    expect(recommended?.intervals?.speedup?.low).toBeLessThanOrEqual(recommended?.metrics.speedup as number);
    expect(recommended?.intervals?.promptSpeedup?.high).toBeGreaterThanOrEqual(recommended?.metrics.promptSpeedup as number);
    expect(recommended?.metrics.promptTokensPerSec).toBeGreaterThan(0);
    expect(recommended?.sideBySide?.baselineBlocks?.metric).toBe("generated tokens/s");
    // One speed metric: the ranking ranks on the figure a speed gate judges, and the recommendation is not beaten on it
    // by a passing candidate that is at least as good on every other objective (it is on the passing candidates' frontier).
    expect(report.objectives.map((o) => o.metric)).toContain("speedup");
    expect(report.objectives.map((o) => o.metric)).not.toContain("p50LatencyMs");
    const passing = report.candidates.filter((c) => report.gates.passingIds.includes(c.id));
    const better = (a: typeof recommended, b: typeof recommended, metric: string, direction: string) =>
      direction === "maximize" ? (a?.metrics[metric] as number) >= (b?.metrics[metric] as number) : (a?.metrics[metric] as number) <= (b?.metrics[metric] as number);
    const dominating = passing.filter(
      (c) => c.id !== recommended?.id && (c.metrics.speedup as number) > (recommended?.metrics.speedup as number) && report.objectives.every((o) => o.metric === "speedup" || better(c, recommended, o.metric, o.direction)),
    );
    expect(dominating.map((c) => c.id)).toEqual([]);
    // Memory the gate uses: weights + KV cache + compute buffers as llama.cpp allocated them, each part shown.
    const memory = recommended?.sideBySide?.memory;
    expect(memory?.parts?.map((p) => p.name)).toEqual(["weights", "KV cache", "compute buffers"]);
    expect(recommended?.metrics.modelMemoryBytes).toBe(memory?.parts?.reduce((sum, p) => sum + p.bytes, 0));
    expect(memory?.modelMemoryIncludes).toMatch(/weights \+ KV cache \+ compute buffers/);
    expect(recommended?.metrics.perplexity).toBeGreaterThan(1);
    expect(recommended?.evaluationMethod).toContain("KL divergence");
    // The input model is measured as the reference but breaks the budget, so it cannot be recommended.
    const baseline = report.gates.verdicts.find((v) => v.candidateId === "f16-1t");
    expect(baseline?.results.find((r) => r.gate.includes("memory budget"))?.passed).toBe(false);
    const md = await readFile(join(output, "report.md"), "utf8");
    expect(md).toContain("klDivergence");
    expect(md).toContain("tokensPerSec");
    expect(md).toMatch(/modelMemoryBytes of q4_[a-z_0-9]+-1t: weights/);
  }, 300_000);

  it("without --eval, says up front that the accuracy gate cannot pass, and What next asks for the text (not an ONNX quantizer)", async () => {
    const output = temp.join("no-eval");
    const result = await runCli(
      ["optimize", model, "-o", output, "--target", "local", "--gguf-types", "Q4_0", "--threads", "1", "--ctx", "64", "--runs", "2", "--warmup", "1", "--shape", "tokens=8", "--no-memory-settings", "--cache-dir", temp.join("cache")],
      { timeoutMs: 300_000 },
    );
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("no evaluation text (--eval FILE.txt): perplexity, KL divergence and accuracy retention are not measured, so no candidate can pass the gate accuracy-retention");
    const md = await readFile(join(output, "report.md"), "utf8");
    expect(md).toMatch(/accuracy-retention — .*measured nothing .*→ give held-out text with --eval FILE\.txt/);
    // llama.cpp's levers only: no ONNX pass is advised for a GGUF run.
    expect(md).not.toContain("onnx.quantize");
  }, 300_000);
});
