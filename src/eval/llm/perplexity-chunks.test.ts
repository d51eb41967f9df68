import { describe, expect, it } from "vitest";
import { chunkTokens, planPerplexityChunks } from "./perplexity-chunks.js";

describe("llama-perplexity chunking", () => {
  it("cuts non-overlapping chunks, scoring the second half of each", () => {
    const plan = planPerplexityChunks(1000, 128);
    expect(plan).toMatchObject({ contextSize: 128, strideTokens: 128, firstScoredPosition: 64, scoredTokensPerChunk: 63, chunkCount: 7, availableChunks: 7 });
    expect(planPerplexityChunks(1000, 128, 3).chunkCount).toBe(3);
  });

  it("puts BOS first in every chunk, keeping the other tokens", () => {
    const tokens = Int32Array.from({ length: 20 }, (_, i) => 100 + i);
    const plan = planPerplexityChunks(20, 8);
    expect(Array.from(chunkTokens(tokens, plan, 1, 1))).toEqual([1, 109, 110, 111, 112, 113, 114, 115]);
    expect(Array.from(chunkTokens(tokens, plan, 0, undefined))).toEqual([100, 101, 102, 103, 104, 105, 106, 107]);
  });

  it("needs at least two contexts of tokens, as llama-perplexity", () => {
    expect(() => planPerplexityChunks(255, 128)).toThrow(/at least 256/);
    expect(() => planPerplexityChunks(1000, 2)).toThrow(/at least 4/);
  });
});
