import { describe, expect, it } from "vitest";
import { chiSquareHomogeneity, chiSquareSurvival, logGamma } from "./chi-square-test.js";
import { binCounts, jensenShannonDistance, normalizedWassersteinDistance, populationStabilityIndex, wassersteinDistance } from "./distribution-distances.js";
import { kolmogorovSurvival, ksTwoSample } from "./ks-test.js";

// Reference numbers computed with scipy 1.17.1 (scipy.stats.ks_2samp, kstwobign, chi2, chi2_contingency,
// wasserstein_distance, scipy.spatial.distance.jensenshannon) unless a hand derivation is given.
const x60 = [0.0012, 0.2987, -0.2741, -0.8906, -0.4547, -0.9916, 0.0601, 1.3402, -0.4922, -0.6205, 0.4898, 0.3569, 0.1054, -0.9305, -0.0293, 0.6953, -1.3442, -0.4576, -1.9012, -1.2895, -1.8417, -0.2351, -1.2674, 0.2713, 0.1568, -0.1869, -2.5168, -0.5387, -0.0485, 0.1133, -1.5301, -0.4778, -0.9785, -0.8088, 1.0609, -0.8075, -0.0325, 0.8844, -0.5836, -0.1117, 0.1105, 0.0638, -1.2251, 0.0761, 1.3588, -1.5471, 0.8594, 0.1194, -0.6415, 2.0004, 0.7623, -1.1993, 0.0745, 0.5767, -0.1888, 0.6829, -0.0665, 0.6672, 1.4385, -0.6757];
const y40 = [0.7031, 0.0367, 0.6273, -0.6872, -0.0793, 0.3038, 1.3988, 1.6452, -0.8235, -0.2946, 1.1469, -1.4924, 0.0368, 0.4027, 1.757, 1.1894, 0.1728, 0.1314, 0.2498, 2.0235, 0.072, 0.1963, 0.8526, 0.3792, 0.3027, -0.6141, 0.4885, 0.0564, 1.6661, 1.1531, 0.4759, 1.1684, 0.1601, 1.5521, 0.4946, 1.0834, -0.7909, 0.8467, -1.1882, -1.5353];
const a25 = [0.61, 0.29, 0.06, 0.59, -1.73, -0.74, 0.51, -0.56, 0.39, 1.64, 0.05, -0.06, 0.64, -0.82, 0.37, 1.77, 1.09, -1.28, 2.36, 1.31, 1.05, -0.32, -0.4, 1.06, -2.47];
const b24 = [2.2, 1.66, 1.38, 0.2, 0.36, 0, 0.96, 1.56, 0.44, 1.5, -0.3, 0.66, 2.31, 3.29, -0.27, -0.37, 0.38, 0.7, 0.52, -0.08, 0.81, 1.4, 0.16, 0.92];

describe("ksTwoSample", () => {
  it("exact p of fully separated samples is 2 / C(m+n, m) (by hand; tolerance 1e-12)", () => {
    const r = ksTwoSample([1, 2, 3], [4, 5, 6]);
    expect(r).toMatchObject({ statistic: 1, method: "exact" });
    expect(r.pValue).toBeCloseTo(2 / 20, 12);
    expect(ksTwoSample([1, 2, 3, 4], [5, 6, 7, 8]).pValue).toBeCloseTo(2 / 70, 12);
  });

  it("matches scipy's exact p-values on samples without ties (tolerance 1e-9)", () => {
    const r = ksTwoSample(x60, y40);
    expect(r.statistic).toBeCloseTo(0.39166666666666666, 12);
    expect(r.pValue).toBeCloseTo(0.0009283491654535789, 9);
    expect(ksTwoSample(a25, b24).pValue).toBeCloseTo(0.20859273638757897, 9);
  });

  it("uses the limiting Kolmogorov distribution past the exact cell limit (scipy kstwobign; tolerance 1e-9)", () => {
    const r = ksTwoSample(x60, y40, 100);
    expect(r.method).toBe("asymptotic");
    expect(r.pValue).toBeCloseTo(0.0012681626567141316, 9);
    expect(ksTwoSample(a25, b24, 0).pValue).toBeCloseTo(0.2922900370409981, 9);
    expect(kolmogorovSurvival(1)).toBeCloseTo(0.26999967167735456, 9);
    expect(kolmogorovSurvival(0.5)).toBeCloseTo(0.9639452436648751, 9);
  });

  it("treats ties as one step and leaves the inputs untouched", () => {
    const a = new Float64Array([3, 1, 2]);
    expect(ksTwoSample(a, [1, 2, 3]).statistic).toBe(0);
    expect([...a]).toEqual([3, 1, 2]);
    expect(ksTwoSample([0, 0, 0], [0, 0, 1]).statistic).toBeCloseTo(1 / 3, 12);
  });
});

describe("chi-square", () => {
  it("survival matches scipy.stats.chi2.sf (tolerance 1e-10)", () => {
    expect(chiSquareSurvival(3.841458820694124, 1)).toBeCloseTo(0.05, 10);
    expect(chiSquareSurvival(10, 4)).toBeCloseTo(0.04042768199451279, 10);
    expect(chiSquareSurvival(25.5, 12)).toBeCloseTo(0.0126233703123143, 10);
    expect(chiSquareSurvival(0.5, 3)).toBeCloseTo(0.9188914116546758, 10);
    // df = 2: the survival function is exp(−x/2) exactly
    expect(chiSquareSurvival(7, 2)).toBeCloseTo(Math.exp(-3.5), 12);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
  });

  it("homogeneity of two count vectors matches scipy chi2_contingency(correction=False) (tolerance 1e-9)", () => {
    const r = chiSquareHomogeneity([30, 20, 50], [20, 25, 15]);
    expect(r.statistic).toBeCloseTo(12.161823361823362, 9);
    expect(r.degreesOfFreedom).toBe(2);
    expect(r.pValue).toBeCloseTo(0.002286091516579071, 9);
  });

  it("drops categories empty on both sides; one category left cannot differ", () => {
    expect(chiSquareHomogeneity([30, 0, 20, 50], [20, 0, 25, 15]).degreesOfFreedom).toBe(2);
    expect(chiSquareHomogeneity([5, 0], [9, 0]).pValue).toBe(1);
  });
});

describe("distances", () => {
  it("Wasserstein distance matches scipy.stats.wasserstein_distance (tolerance 1e-12)", () => {
    expect(wassersteinDistance([0, 1, 3], [5, 6, 8])).toBeCloseTo(5, 12);
    expect(wassersteinDistance([0, 1, 2, 7], [1, 1.5, 9])).toBeCloseTo(1.5, 12);
    expect(wassersteinDistance([1, 2], [1, 2])).toBe(0);
  });

  it("normalizes by the reference's population sd", () => {
    // reference [0, 2]: population sd 1; shifting both values by 0.5 moves every unit of mass 0.5
    expect(normalizedWassersteinDistance([0, 2], [0.5, 2.5])).toBeCloseTo(0.5, 12);
    expect(normalizedWassersteinDistance([1, 1], [1, 1])).toBe(0);
  });

  it("Jensen–Shannon distance matches scipy.spatial.distance.jensenshannon (natural log; tolerance 1e-12)", () => {
    expect(jensenShannonDistance([1, 0], [0.5, 0.5])).toBeCloseTo(0.464501404022459, 12);
    expect(jensenShannonDistance([10, 20, 70], [30, 30, 40])).toBeCloseTo(0.22784261945058354, 12);
    expect(jensenShannonDistance([3, 4], [6, 8])).toBeCloseTo(0, 12);
  });

  it("PSI by hand: shares 0.5/0.5 → 0.25/0.75 give 0.25·ln 2", () => {
    // (0.25 − 0.5)·ln(0.5) + (0.75 − 0.5)·ln(1.5) = 0.25·(ln 2 + ln 1.5) = 0.25·ln 3
    expect(populationStabilityIndex([50, 50], [25, 75])).toBeCloseTo(0.25 * Math.log(3), 12);
    expect(populationStabilityIndex([10, 0], [10, 0])).toBeCloseTo(0, 12);
  });

  it("bins values between interior edges, edges going right", () => {
    expect([...binCounts([0, 1, 1.5, 2, 5], [1, 2])]).toEqual([1, 2, 2]);
  });
});
