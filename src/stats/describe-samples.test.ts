import { describe, expect, it } from "vitest";
import { describeSamples, median, percentileOfSorted, relativeSpread, standardDeviation } from "./describe-samples.js";

describe("describeSamples", () => {
  it("matches numpy's linear-interpolation percentiles (tolerance 1e-12)", () => {
    const values = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];
    const summary = describeSamples(values);
    expect(summary.count).toBe(10);
    expect(summary.min).toBe(1);
    expect(summary.max).toBe(10);
    expect(summary.mean).toBeCloseTo(5.5, 12);
    // numpy.percentile(range(1, 11), [50, 90, 95, 99]) = 5.5, 9.1, 9.55, 9.91
    expect(summary.p50).toBeCloseTo(5.5, 12);
    expect(summary.p90).toBeCloseTo(9.1, 12);
    expect(summary.p95).toBeCloseTo(9.55, 12);
    expect(summary.p99).toBeCloseTo(9.91, 12);
  });

  it("uses the n − 1 standard deviation and reports sd / mean as CV (tolerance 1e-12)", () => {
    const values = [2, 4, 4, 4, 5, 5, 7, 9];
    const expectedSd = Math.sqrt(32 / 7);
    expect(standardDeviation(values)).toBeCloseTo(expectedSd, 12);
    expect(describeSamples(values).cv).toBeCloseTo(expectedSd / 5, 12);
  });

  it("handles a single sample and refuses an empty one", () => {
    expect(describeSamples([3])).toMatchObject({ p50: 3, p99: 3, sd: 0, cv: 0 });
    expect(() => describeSamples([])).toThrow(/no samples/);
  });

  it("does not reorder its input", () => {
    const values = [3, 1, 2];
    describeSamples(values);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe("helpers", () => {
  it("percentileOfSorted clamps q and interpolates", () => {
    expect(percentileOfSorted([0, 10], 0.25)).toBeCloseTo(2.5, 12);
    expect(percentileOfSorted([0, 10], 2)).toBe(10);
  });

  it("median and relative spread", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(relativeSpread([9.5, 10, 10.5])).toBeCloseTo(0.1, 12);
  });
});
