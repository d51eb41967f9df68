import { describe, expect, it } from "vitest";
import { decideRatio, estimateRatio, intervalsOverlap, latencyRatios, rateRatios } from "./paired-ratio.js";
import { createRandom } from "./random.js";

describe("paired ratios", () => {
  it("takes baseline/candidate for latency and candidate/baseline for rates, dropping empty blocks", () => {
    expect(latencyRatios([10, 12, 0, 9], [5, 6, 4])).toEqual([2, 2]);
    expect(rateRatios([100, 50], [200, 75])).toEqual([2, 1.5]);
  });

  it("summarizes by the median with a bootstrap interval that contains it (exact for constant data)", () => {
    const constant = estimateRatio([1.5, 1.5, 1.5, 1.5, 1.5, 1.5], createRandom(7));
    expect(constant).toMatchObject({ ratio: 1.5, low: 1.5, high: 1.5, pairs: 6, level: 0.95 });
    const spread = estimateRatio([0.9, 1.0, 1.05, 1.1, 1.2, 1.0, 0.95, 1.02], createRandom(7));
    expect(spread.ratio).toBeCloseTo(1.01, 12);
    expect(spread.low).toBeLessThanOrEqual(spread.ratio);
    expect(spread.high).toBeGreaterThanOrEqual(spread.ratio);
    expect(spread.low).toBeGreaterThanOrEqual(0.9);
    expect(spread.high).toBeLessThanOrEqual(1.2);
  });

  it("covers the true median about as often as it says with the few blocks optimize measures", () => {
    // Log-normal block ratios around a known median of 1; seeded, so the count is exact.
    const random = createRandom(11);
    const normal = () => Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
    for (const blocks of [6, 10]) {
      let covered = 0;
      for (let trial = 0; trial < 400; trial += 1) {
        const estimate = estimateRatio(Array.from({ length: blocks }, () => Math.exp(0.2 * normal())), createRandom(trial), { resamples: 500 });
        if (estimate.low <= 1 && estimate.high >= 1) covered += 1;
      }
      expect(covered / 400).toBeGreaterThan(0.9);
    }
  });

  it("is reproducible for a seed", () => {
    const data = [1.3, 1.4, 1.2, 1.5, 1.35, 1.45, 1.25];
    expect(estimateRatio(data, createRandom(3))).toEqual(estimateRatio(data, createRandom(3)));
  });

  it("returns NaN bounds (and an inconclusive decision) without data", () => {
    const empty = estimateRatio([], createRandom(1));
    expect(empty.pairs).toBe(0);
    expect(decideRatio(empty, 2)).toBe("inconclusive");
  });

  it("judges the interval, not the point: pass above, fail below, inconclusive across the threshold", () => {
    expect(decideRatio({ low: 2.1, high: 2.5 }, 2)).toBe("pass");
    expect(decideRatio({ low: 2.0, high: 2.5 }, 2)).toBe("pass");
    expect(decideRatio({ low: 1.1, high: 1.9 }, 2)).toBe("fail");
    expect(decideRatio({ low: 1.8, high: 2.2 }, 2)).toBe("inconclusive");
    expect(decideRatio({ low: 0.4, high: 0.45 }, 0.5, "lower")).toBe("pass");
    expect(decideRatio({ low: 0.55, high: 0.6 }, 0.5, "lower")).toBe("fail");
    expect(decideRatio({ low: 0.45, high: 0.6 }, 0.5, "lower")).toBe("inconclusive");
  });

  it("a noisy ratio whose point clears the bar stays inconclusive (fixed data straddling 2×)", () => {
    const estimate = estimateRatio([2.6, 1.5, 2.4, 1.6, 2.5, 1.7, 2.3, 1.8], createRandom(11));
    expect(estimate.ratio).toBeGreaterThan(2);
    expect(decideRatio(estimate, 2)).toBe("inconclusive");
  });

  it("tells overlapping intervals from disjoint ones", () => {
    expect(intervalsOverlap({ low: 1, high: 1.2 }, { low: 1.1, high: 1.4 })).toBe(true);
    expect(intervalsOverlap({ low: 1, high: 1.2 }, { low: 1.3, high: 1.4 })).toBe(false);
  });
});
