import { standardDeviation } from "./describe-samples.js";

/** 1-Wasserstein (earth mover's) distance between two empirical samples: ∫ |F_a(x) − F_b(x)| dx. */
export function wassersteinDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length === 0 || b.length === 0) return 0;
  const sortedA = Float64Array.from(a).sort();
  const sortedB = Float64Array.from(b).sort();
  let i = 0;
  let j = 0;
  let previous = Math.min(sortedA[0] as number, sortedB[0] as number);
  let distance = 0;
  while (i < sortedA.length || j < sortedB.length) {
    const next = j >= sortedB.length || (i < sortedA.length && (sortedA[i] as number) <= (sortedB[j] as number)) ? (sortedA[i] as number) : (sortedB[j] as number);
    distance += Math.abs(i / sortedA.length - j / sortedB.length) * (next - previous);
    while (i < sortedA.length && (sortedA[i] as number) === next) i += 1;
    while (j < sortedB.length && (sortedB[j] as number) === next) j += 1;
    previous = next;
  }
  return distance;
}

/**
 * Wasserstein distance in units of the reference's population standard deviation (Evidently's
 * "normed" form). A constant reference (sd 0) is measured against 1e-9 × max(1, |value|) instead.
 */
export function normalizedWassersteinDistance(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  const n = reference.length;
  const sd = n > 1 ? standardDeviation(reference) * Math.sqrt((n - 1) / n) : 0;
  const scale = sd > 0 ? sd : 1e-9 * Math.max(1, Math.abs(n > 0 ? (reference[0] as number) : 0));
  return wassersteinDistance(reference, current) / scale;
}

function toShares(counts: ArrayLike<number>): Float64Array {
  let total = 0;
  for (let k = 0; k < counts.length; k += 1) total += counts[k] as number;
  return Float64Array.from(counts, (count) => (total > 0 ? count / total : 0));
}

/** Jensen–Shannon distance (square root of the divergence, natural logarithm, as scipy's default) between two count vectors. */
export function jensenShannonDistance(countsA: ArrayLike<number>, countsB: ArrayLike<number>): number {
  const p = toShares(countsA);
  const q = toShares(countsB);
  let divergence = 0;
  for (let k = 0; k < p.length; k += 1) {
    const pk = p[k] as number;
    const qk = q[k] as number;
    const mk = (pk + qk) / 2;
    if (pk > 0) divergence += 0.5 * pk * Math.log(pk / mk);
    if (qk > 0) divergence += 0.5 * qk * Math.log(qk / mk);
  }
  return Math.sqrt(Math.max(0, divergence));
}

/** Empty bins count as this share, so one empty bin cannot make the index infinite (Evidently's convention). */
export const psiEmptyShare = 0.0001;

/** Population stability index Σ (current − reference)·ln(current / reference) over bin shares. */
export function populationStabilityIndex(referenceCounts: ArrayLike<number>, currentCounts: ArrayLike<number>): number {
  const reference = toShares(referenceCounts);
  const current = toShares(currentCounts);
  let index = 0;
  for (let k = 0; k < reference.length; k += 1) {
    const r = Math.max(reference[k] as number, psiEmptyShare);
    const c = Math.max(current[k] as number, psiEmptyShare);
    index += (c - r) * Math.log(c / r);
  }
  return index;
}

/** Counts of `values` in the bins between ascending interior `edges` (k edges → k + 1 bins; a value on an edge goes right). */
export function binCounts(values: ArrayLike<number>, edges: ArrayLike<number>): Float64Array {
  const counts = new Float64Array(edges.length + 1);
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i] as number;
    let low = 0;
    let high = edges.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (value >= (edges[middle] as number)) low = middle + 1;
      else high = middle;
    }
    counts[low] = (counts[low] as number) + 1;
  }
  return counts;
}
