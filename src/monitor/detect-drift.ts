import { chiSquareHomogeneity } from "../stats/chi-square-test.js";
import { binCounts, jensenShannonDistance, normalizedWassersteinDistance, populationStabilityIndex } from "../stats/distribution-distances.js";
import { ksTwoSample } from "../stats/ks-test.js";
import type { MonitoredFeature } from "./request-features.js";

export type DriftMethod = "ks" | "chi-square" | "wasserstein" | "jensen-shannon" | "psi";

/** "auto": tests up to 1,000 reference rows, distances above; "psi": population stability index for every feature. */
export type DriftMethodChoice = "auto" | "psi";

/** The widely used defaults (Evidently's): the switch from tests to distances, and each threshold. */
export const driftDefaults = {
  /** Up to this many reference rows: KS (numeric) and chi-square (categorical); above: Wasserstein and Jensen–Shannon. */
  testMaxReferenceRows: 1000,
  pValue: 0.05,
  distance: 0.1,
  psiWarn: 0.1,
  psiAlert: 0.25,
  /** The model counts as drifted when at least this share of its monitored features drifted. */
  driftedShare: 0.5,
  /** Fewer window rows than this are not judged. */
  minWindowRows: 30,
} as const;

export interface FeatureDrift {
  feature: string;
  kind: MonitoredFeature["kind"];
  method: DriftMethod;
  /** p-value for ks / chi-square (drift when below the threshold); distance or index otherwise (drift when at or above). */
  score: number;
  threshold: number;
  drifted: boolean;
  /** KS only: how the p-value was computed. */
  pValueMethod?: "exact" | "asymptotic";
  /** The test statistic (KS D, chi-square) where there is one. */
  statistic?: number;
  /** PSI only: at or above the warning level (0.1). */
  warning?: boolean;
}

export interface DriftReport {
  referenceRows: number;
  windowRows: number;
  features: FeatureDrift[];
  /** Drifted features / judged features. */
  driftedShare: number;
  drifted: boolean;
}

function finiteValues(column: Float64Array): Float64Array {
  let n = 0;
  for (let i = 0; i < column.length; i += 1) if (Number.isFinite(column[i])) n += 1;
  if (n === column.length) return column;
  const out = new Float64Array(n);
  let j = 0;
  for (let i = 0; i < column.length; i += 1) if (Number.isFinite(column[i])) out[j++] = column[i]!;
  return out;
}

/** Counts of each category (both sides share the category order of their union). */
function categoryCounts(reference: Float64Array, window: Float64Array): [Float64Array, Float64Array] {
  const index = new Map<number, number>();
  for (const column of [reference, window]) for (let i = 0; i < column.length; i += 1) if (!index.has(column[i]!)) index.set(column[i]!, index.size);
  const counts = [new Float64Array(index.size), new Float64Array(index.size)] as [Float64Array, Float64Array];
  [reference, window].forEach((column, side) => {
    for (let i = 0; i < column.length; i += 1) counts[side]![index.get(column[i]!)!]! += 1;
  });
  return counts;
}

/** Interior edges at the reference's deciles (duplicates dropped). */
function decileEdges(reference: Float64Array): Float64Array {
  const sorted = Float64Array.from(reference).sort();
  const edges: number[] = [];
  for (let d = 1; d < 10; d += 1) {
    const value = sorted[Math.min(sorted.length - 1, Math.floor((d * sorted.length) / 10))]!;
    if (edges.length === 0 || value > edges[edges.length - 1]!) edges.push(value);
  }
  return Float64Array.from(edges);
}

function judgeFeature(feature: MonitoredFeature, reference: Float64Array, window: Float64Array, choice: DriftMethodChoice): FeatureDrift {
  const base = { feature: feature.name, kind: feature.kind };
  if (choice === "psi") {
    const edges = feature.kind === "numeric" ? decileEdges(reference) : undefined;
    const [ref, cur] = edges ? [binCounts(reference, edges), binCounts(window, edges)] : categoryCounts(reference, window);
    const score = populationStabilityIndex(ref, cur);
    return { ...base, method: "psi", score, threshold: driftDefaults.psiAlert, drifted: score >= driftDefaults.psiAlert, warning: score >= driftDefaults.psiWarn };
  }
  const useTests = reference.length <= driftDefaults.testMaxReferenceRows;
  if (feature.kind === "categorical") {
    const [ref, cur] = categoryCounts(reference, window);
    if (useTests) {
      const test = chiSquareHomogeneity(ref, cur);
      return { ...base, method: "chi-square", score: test.pValue, statistic: test.statistic, threshold: driftDefaults.pValue, drifted: test.pValue < driftDefaults.pValue };
    }
    const score = jensenShannonDistance(ref, cur);
    return { ...base, method: "jensen-shannon", score, threshold: driftDefaults.distance, drifted: score >= driftDefaults.distance };
  }
  if (useTests) {
    const test = ksTwoSample(reference, window);
    return { ...base, method: "ks", score: test.pValue, statistic: test.statistic, pValueMethod: test.method, threshold: driftDefaults.pValue, drifted: test.pValue < driftDefaults.pValue };
  }
  const score = normalizedWassersteinDistance(reference, window);
  return { ...base, method: "wasserstein", score, threshold: driftDefaults.distance, drifted: score >= driftDefaults.distance };
}

/**
 * Compare a window of per-request features with the reference's, feature by feature (columns in
 * `features` order; NaN values are left out), and decide whether the model drifted.
 */
export function detectDrift(features: readonly MonitoredFeature[], reference: readonly Float64Array[], window: readonly Float64Array[], choice: DriftMethodChoice = "auto"): DriftReport {
  const judged: FeatureDrift[] = [];
  let referenceRows = 0;
  let windowRows = 0;
  features.forEach((feature, k) => {
    const ref = finiteValues(reference[k] ?? new Float64Array(0));
    const cur = finiteValues(window[k] ?? new Float64Array(0));
    referenceRows = Math.max(referenceRows, ref.length);
    windowRows = Math.max(windowRows, cur.length);
    if (ref.length === 0 || cur.length === 0) return;
    judged.push(judgeFeature(feature, ref, cur, choice));
  });
  const driftedCount = judged.filter((f) => f.drifted).length;
  const driftedShare = judged.length > 0 ? driftedCount / judged.length : 0;
  return { referenceRows, windowRows, features: judged, driftedShare, drifted: judged.length > 0 && driftedShare >= driftDefaults.driftedShare };
}
