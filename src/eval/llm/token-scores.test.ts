import { describe, expect, it } from "vitest";
import { klDivergence, logSoftmaxRow, TokenScoreAccumulator } from "./token-scores.js";

describe("token scores", () => {
  it("uniform logits have perplexity equal to the vocabulary size", () => {
    const scores = new TokenScoreAccumulator(8);
    scores.addRows(new Float32Array(3 * 8), Int32Array.from([1, 5, 7]));
    expect(scores.perplexity().perplexity).toBeCloseTo(8, 10);
    expect(scores.perplexity().perplexityStandardError).toBe(0);
    expect(scores.klDivergence()).toBeUndefined();
  });

  it("KL divergence is 0 for identical rows and matches the closed form for two tokens", () => {
    const p = new Float64Array(2);
    const q = new Float64Array(2);
    logSoftmaxRow(Float32Array.from([Math.log(0.75), Math.log(0.25)]), 0, 2, p);
    logSoftmaxRow(Float32Array.from([0, 0]), 0, 2, q);
    expect(klDivergence(p, p)).toBe(0);
    expect(klDivergence(p, q)).toBeCloseTo(0.75 * Math.log(0.75 / 0.5) + 0.25 * Math.log(0.25 / 0.5), 6);
  });

  it("accumulates KL mean/median/p99, top-1 agreement and the base model's perplexity", () => {
    const scores = new TokenScoreAccumulator(2);
    // Row 0: the candidate prefers token 1, the base token 0. Row 1: identical, both prefer token 1.
    const candidate = Float32Array.from([0, 1, 0, 2]);
    const base = Float32Array.from([2, 0, 0, 2]);
    scores.addRows(candidate, Int32Array.from([0, 1]), base);
    const kl = scores.klDivergence();
    expect(kl?.scoredTokens).toBe(2);
    expect(kl?.median).toBeCloseTo((kl?.mean ?? 0), 10);
    expect(kl?.max).toBeGreaterThan(0);
    expect(scores.top1Agreement()).toEqual({ ratio: 0.5, sameTopTokens: 1, scoredTokens: 2 });
    const baseNll = (-Math.log(Math.exp(2) / (Math.exp(2) + 1)) * 2) / 2;
    expect(scores.basePerplexity()?.perplexity).toBeCloseTo(Math.exp(baseNll), 6);
  });
});
