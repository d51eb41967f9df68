import { describe, expect, it } from "vitest";
import { histogramQuantile } from "./histogram-quantile.js";

describe("histogramQuantile", () => {
  const buckets = [
    { le: 0.1, count: 50 },
    { le: 0.2, count: 90 },
    { le: 0.5, count: 100 },
    { le: Infinity, count: 100 },
  ];

  it("interpolates inside the bucket holding the rank, like Prometheus", () => {
    // rank 50 is the top of the first bucket; rank 70 is halfway through (0.1, 0.2]; rank 99 is 9/10 through (0.2, 0.5]
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.1, 12);
    expect(histogramQuantile(0.7, buckets)).toBeCloseTo(0.15, 12);
    expect(histogramQuantile(0.99, buckets)).toBeCloseTo(0.47, 12);
  });

  it("answers the highest finite bound for ranks in +Inf, and nothing for an empty histogram", () => {
    expect(histogramQuantile(0.99, [{ le: 1, count: 1 }, { le: Infinity, count: 10 }])).toBe(1);
    expect(histogramQuantile(0.99, [{ le: 1, count: 0 }, { le: Infinity, count: 0 }])).toBeUndefined();
  });
});
