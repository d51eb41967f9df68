import { describe, expect, it } from "vitest";
import { ActivationHistogram } from "./activation-histogram.js";
import { createRangeCollector } from "./range-collector.js";

function gaussian(seed: number, count: number): Float32Array {
  let s = seed;
  const uniform = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 1) / 2 ** 32;
  };
  return Float32Array.from({ length: count }, () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()));
}

describe("calibration range collectors", () => {
  it("minmax keeps the extremes over batches", () => {
    const collector = createRangeCollector({ method: "minmax" });
    collector.add(Float32Array.of(-1, 2));
    collector.add(Float32Array.of(0.5, 3, -0.25));
    expect(collector.computeRange()).toEqual({ min: -1, max: 3 });
  });

  it("the histogram keeps every count when its range doubles", () => {
    const histogram = new ActivationHistogram(64);
    histogram.add(Float32Array.of(0.1, -0.2, 0.3));
    histogram.add(Float32Array.of(10, -40));
    expect(histogram.total).toBe(5);
    expect(histogram.counts.reduce((a, b) => a + b, 0)).toBe(5);
    expect(histogram.limit).toBeGreaterThan(40);
  });

  it("percentile cuts outliers; symmetric and asymmetric", () => {
    const values = gaussian(1, 100_000);
    values[0] = 50;
    values[1] = -40;
    const symmetric = createRangeCollector({ method: "percentile", percentile: 99, symmetric: true });
    symmetric.add(values);
    const range = symmetric.computeRange();
    // |x| ≤ 2.576 holds for 99% of a standard normal; one histogram bin of slack.
    expect(range.max).toBeGreaterThan(2.45);
    expect(range.max).toBeLessThan(2.7);
    expect(range.min).toBeCloseTo(-range.max, 6);
    const asymmetric = createRangeCollector({ method: "percentile", percentile: 99 });
    asymmetric.add(values);
    expect(asymmetric.computeRange().max).toBeLessThan(2.7);
  });

  it("entropy picks a threshold inside the range of a distribution with outliers", () => {
    const values = gaussian(2, 50_000);
    values[0] = 60;
    const entropy = createRangeCollector({ method: "entropy" });
    entropy.add(values);
    const range = entropy.computeRange();
    expect(range.max).toBeGreaterThan(2);
    expect(range.max).toBeLessThan(30);
    // Clipped to what was seen: the lower end never goes past the observed minimum.
    expect(range.min).toBeGreaterThanOrEqual(Math.min(...values));
  });
});
