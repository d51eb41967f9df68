import type { ActivationHistogram } from "./activation-histogram.js";
import type { QuantizationRange } from "./linear-quantization.js";

const smoothingEpsilon = 1e-4;

/**
 * Move a little mass onto empty bins so KL divergence stays finite; returns false when there is
 * too little mass to borrow (then that candidate is skipped).
 */
function smooth(distribution: Float64Array): boolean {
  let zeros = 0;
  for (const v of distribution) if (v === 0) zeros++;
  const nonZeros = distribution.length - zeros;
  if (nonZeros === 0) return false;
  const borrowed = (smoothingEpsilon * zeros) / nonZeros;
  if (borrowed >= 1) return false;
  for (let i = 0; i < distribution.length; i++) {
    distribution[i] = distribution[i] === 0 ? smoothingEpsilon : distribution[i]! - borrowed;
  }
  return true;
}

function klDivergence(p: Float64Array, q: Float64Array): number {
  let pSum = 0;
  let qSum = 0;
  for (let i = 0; i < p.length; i++) {
    pSum += p[i]!;
    qSum += q[i]!;
  }
  let divergence = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]! / pSum;
    const qi = q[i]! / qSum;
    if (pi > 0) divergence += pi * Math.log(pi / qi);
  }
  return divergence;
}

/**
 * Entropy calibration (the KL-divergence threshold search of TensorRT and onnxruntime's
 * HistogramCalibrater): for each candidate symmetric threshold around zero, fold the outliers into
 * the edge bins (P), squeeze the kept bins into `quantizedBinCount` levels and spread them back (Q),
 * and keep the threshold with the smallest KL(P‖Q). The result is clipped to the values seen, so a
 * non-negative activation (after ReLU) does not waste half of an asymmetric uint8 range.
 */
export function computeEntropyRange(histogram: ActivationHistogram, quantizedBinCount = 128): QuantizationRange {
  if (histogram.total === 0) return { min: 0, max: 0 };
  const counts = histogram.counts;
  const n = histogram.binCount;
  const zeroBin = n / 2;
  const halfQuantized = quantizedBinCount >> 1;
  let bestDivergence = Infinity;
  let bestHalfWidth = zeroBin;
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + counts[i]!;
  for (let halfWidth = halfQuantized; halfWidth <= zeroBin; halfWidth++) {
    const start = zeroBin - halfWidth;
    const end = Math.min(zeroBin + halfWidth, n);
    const width = end - start;
    const p = new Float64Array(width);
    for (let i = 0; i < width; i++) p[i] = counts[start + i]!;
    const nonZero = new Uint8Array(width);
    for (let i = 0; i < width; i++) nonZero[i] = p[i]! !== 0 ? 1 : 0;
    p[0]! += prefix[start]!;
    p[width - 1]! += prefix[n]! - prefix[end]!;
    if (p[0] !== 0) nonZero[0] = 1;
    if (p[width - 1] !== 0) nonZero[width - 1] = 1;

    const merged = Math.floor(width / quantizedBinCount);
    const q = new Float64Array(width);
    for (let level = 0; level < quantizedBinCount; level++) {
      const levelStart = level * merged;
      const levelEnd = level === quantizedBinCount - 1 ? width : levelStart + merged;
      let mass = 0;
      let kept = 0;
      for (let i = levelStart; i < levelEnd; i++) {
        mass += counts[start + i]!;
        kept += nonZero[i]!;
      }
      if (kept === 0) continue;
      for (let i = levelStart; i < levelEnd; i++) if (nonZero[i]) q[i] = mass / kept;
    }
    if (!smooth(p) || !smooth(q)) continue;
    const divergence = klDivergence(p, q);
    if (divergence < bestDivergence) {
      bestDivergence = divergence;
      bestHalfWidth = halfWidth;
    }
  }
  const threshold = histogram.edge(zeroBin + bestHalfWidth);
  return { min: Math.max(-threshold, histogram.min), max: Math.min(threshold, histogram.max) };
}
