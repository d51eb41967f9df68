import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { evaluateLlm } from "../../src/api/llm.js";
import { openLlamaCppSession } from "../../src/runtimes/llama-cpp/llama-cpp-runtime.js";
import { heldoutText, llmTestThreads, stories260KGguf, tinyLlamaF16, tinyStoriesText } from "../fixtures/llm-models.js";

describe("logits as typed arrays straight from llama.cpp (llama_get_logits_ith through koffi)", () => {
  it("are bit-identical to node-llama-cpp's controlledEvaluate logits for the same tokens", async () => {
    for (const [model, text] of [
      [tinyLlamaF16, heldoutText],
      [stories260KGguf, tinyStoriesText],
    ] as const) {
      await using native = await openLlamaCppSession(model, { threads: llmTestThreads, contextSize: 128 });
      await using mapped = await openLlamaCppSession(model, { threads: llmTestThreads, contextSize: 128, logits: "node-llama-cpp" });
      const tokens = native.tokenize((await readFile(text, "utf8")).slice(0, 20_000));
      for (let chunk = 0; chunk < 3; chunk += 1) {
        const input = tokens.subarray(chunk * 128, chunk * 128 + 127);
        const [a, b] = [await native.evaluateLogits(input, 64), await mapped.evaluateLogits(input, 64)];
        expect(a.length).toBe(63 * native.vocabularySize);
        // Same engine, same batch and thread settings: tolerance 0.
        expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer)), `${model} chunk ${chunk}`).toBe(true);
      }
      expect(native.describe().settings.logitsPath).toBe("native");
      expect(mapped.describe().settings.logitsPath).toBe("node-llama-cpp");
      // The native context serves whole sequences only up to the session's context.
      await expect(native.evaluateLogits(new Int32Array(native.contextSize + 1), 0)).rejects.toMatchObject({ code: "INVALID_SHAPE" });
    }
  });

  it("keeps the published tiny-fortunes figure: perplexity 66.4815 ± 0.9700 over all 547 chunks of heldout-eval.txt (ctx 128)", async () => {
    const evaluation = await evaluateLlm({ modelPath: tinyLlamaF16, textPath: heldoutText, contextSize: 128, threads: llmTestThreads, promptTokens: 0, generateTokens: 0 });
    expect(evaluation.chunking.chunkCount).toBe(547);
    expect(evaluation.perplexity.perplexity.toFixed(4)).toBe("66.4815");
    expect(evaluation.perplexity.perplexityStandardError.toFixed(4)).toBe("0.9700");
    expect(evaluation.runtime.settings.logitsPath).toBe("native");
  }, 300_000);
});
