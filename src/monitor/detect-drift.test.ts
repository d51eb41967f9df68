import { describe, expect, it } from "vitest";
import { createRandom } from "../stats/random.js";
import { detectDrift } from "./detect-drift.js";
import type { MonitoredFeature } from "./request-features.js";

const features: MonitoredFeature[] = [
  { name: "x.mean", kind: "numeric" },
  { name: "x.sd", kind: "numeric" },
  { name: "prediction.class", kind: "categorical" },
];

function columns(rows: number, shift: number, seed: number): Float64Array[] {
  const random = createRandom(seed);
  return [Float64Array.from({ length: rows }, () => random.normal(shift, 1)), Float64Array.from({ length: rows }, () => random.normal(2, 0.5)), Float64Array.from({ length: rows }, () => random.int(0, 4))];
}

describe("detectDrift", () => {
  it("uses KS and chi-square up to 1,000 reference rows, and flags a shifted numeric feature", () => {
    const report = detectDrift(features, columns(1000, 0, 1), columns(200, 1, 2));
    expect(report.features.map((f) => f.method)).toEqual(["ks", "ks", "chi-square"]);
    expect(report.features[0]).toMatchObject({ drifted: true, threshold: 0.05, pValueMethod: "exact" });
    expect(report.features[0]!.score).toBeLessThan(1e-6);
    // one of three features drifted: below the 50 % share
    expect(report.features[1]!.drifted).toBe(false);
    expect(report.drifted).toBe(false);
    expect(report).toMatchObject({ referenceRows: 1000, windowRows: 200 });
  });

  it("uses normalized Wasserstein and Jensen–Shannon (threshold 0.1) above 1,000 reference rows", () => {
    const report = detectDrift(features, columns(1001, 0, 3), columns(300, 0, 4));
    expect(report.features.map((f) => f.method)).toEqual(["wasserstein", "wasserstein", "jensen-shannon"]);
    expect(report.features.every((f) => f.threshold === 0.1 && !f.drifted)).toBe(true);
    const shifted = detectDrift(features, columns(1001, 0, 3), columns(300, 0.5, 4));
    // a shift of half a reference sd moves the normalized Wasserstein distance to about 0.5
    expect(shifted.features[0]!.score).toBeGreaterThan(0.3);
    expect(shifted.features[0]!.drifted).toBe(true);
  });

  it("counts the model drifted when at least half of its features drifted", () => {
    const window = columns(200, 1, 5);
    window[2] = Float64Array.from({ length: 200 }, () => 3);
    const report = detectDrift(features, columns(500, 0, 6), window);
    expect(report.features.filter((f) => f.drifted).map((f) => f.feature)).toEqual(["x.mean", "prediction.class"]);
    expect(report.driftedShare).toBeCloseTo(2 / 3, 12);
    expect(report.drifted).toBe(true);
  });

  it("PSI on request: 0.1 warns, 0.25 drifts", () => {
    const same = detectDrift(features, columns(800, 0, 7), columns(400, 0, 8), "psi");
    expect(same.features.every((f) => f.method === "psi" && f.threshold === 0.25 && !f.drifted)).toBe(true);
    const shifted = detectDrift(features, columns(800, 0, 7), columns(400, 1, 8), "psi");
    expect(shifted.features[0]).toMatchObject({ drifted: true, warning: true });
  });

  it("leaves NaN values out and does not judge an empty side", () => {
    const window = columns(100, 0, 9);
    window[0] = new Float64Array(100).fill(Number.NaN);
    const report = detectDrift(features, columns(500, 0, 10), window);
    expect(report.features.map((f) => f.feature)).toEqual(["x.sd", "prediction.class"]);
  });
});
