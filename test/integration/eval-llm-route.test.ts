import { describe, expect, it } from "vitest";
import { evaluate } from "../../src/api/evaluate.js";
import { heldoutText, llmTestThreads, tinyLlamaF16 } from "../fixtures/llm-models.js";

describe("edgeforge eval routes GGUF models to the LLM metrics", () => {
  it("evaluates perplexity, and against itself KL ≈ 0 with full top-1 agreement and retention 1", async () => {
    const record = await evaluate({
      modelPath: tinyLlamaF16,
      baselinePath: tinyLlamaF16,
      dataPath: heldoutText,
      options: { threads: llmTestThreads, contextSize: 128, maxChunks: 4, promptTokens: 32, generateTokens: 8, repetitions: 1 },
    });
    expect(record.task).toBe("llm");
    expect(record.model).toMatchObject({ format: "gguf", runtime: "llama-cpp" });
    const metric = (name: string) => record.metrics.find((m) => m.name === name)?.value;
    // The trained model's full-text perplexity is 66.5 (MODELS.md); random weights give ~4000.
    expect(metric("perplexity")).toBeGreaterThan(10);
    expect(metric("perplexity")).toBeLessThan(300);
    expect(metric("klDivergence")).toBeLessThan(1e-6);
    expect(metric("top1Agreement")).toBe(1);
    expect(metric("promptTokensPerSec")).toBeGreaterThan(0);
    expect(metric("tokensPerSec")).toBeGreaterThan(0);
    expect(record.accuracyRetention).toBeCloseTo(1, 9);
    expect(record.metricValues).toMatchObject({ perplexity: metric("perplexity"), klDivergence: metric("klDivergence"), accuracyRetention: record.accuracyRetention });
  });
});
