import { describe, expect, it } from "vitest";
import { evaluate } from "../../src/api/evaluate.js";
import { compareLlms, evaluateLlm } from "../../src/api/llm.js";
import { EdgeforgeError } from "../../src/core/errors.js";
import { measureLlmQuality } from "../../src/workflow/measure-llm-quality.js";
import { writeHeadCountZeroGguf } from "../fixtures/degenerate-models.js";
import { heldoutText, llmTestThreads, tinyLlamaF16 } from "../fixtures/llm-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";

const temp = useTempDir("eval-llm-route-");

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

describe("the library's LLM evaluation survives a model llama.cpp aborts on", () => {
  const quick = { textPath: heldoutText, contextSize: 128, maxChunks: 2, threads: llmTestThreads, promptTokens: 0, generateTokens: 0 };
  const expectEngineAbort = (error: unknown): void => {
    expect(EdgeforgeError.isInstance(error) && error.code).toBe("RUNTIME_FAILED");
    // llama.cpp's own assert text, from the child's stderr.
    expect((error as EdgeforgeError).message).toMatch(/GGML_ASSERT/);
    expect((error as EdgeforgeError).details).toMatchObject({ signal: "SIGABRT" });
  };

  it("evaluateLlm, compareLlms and optimize's quality step return RUNTIME_FAILED with llama.cpp's message; this process goes on (each runs llama.cpp in a child)", async () => {
    const crashing = await writeHeadCountZeroGguf(temp.join("head-count-zero.gguf"));
    expectEngineAbort(await evaluateLlm({ ...quick, modelPath: crashing }).catch((error: unknown) => error));
    expectEngineAbort(await compareLlms({ ...quick, basePath: tinyLlamaF16, modelPaths: [crashing] }).catch((error: unknown) => error));
    expectEngineAbort(await measureLlmQuality(crashing, tinyLlamaF16, heldoutText, { threads: llmTestThreads, contextSize: 128, maxChunks: 2 }, {}).catch((error: unknown) => error));
  }, 180_000);
});
