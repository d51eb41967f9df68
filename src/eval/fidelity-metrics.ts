import { argmax } from "./tensor-values.js";

/**
 * Agreement between a candidate's outputs and a reference's on the same inputs, accumulated
 * sample by sample in float64: max/mean absolute error, mean per-sample cosine similarity (across
 * samples for one-value outputs), SNR in dB (10·log10(Σ ref² / Σ (ref − cand)²)) and top-1 agreement of rows over the last axis.
 */
export interface FidelitySummary {
  maxAbsError: number;
  meanAbsError: number;
  /**
   * Mean per-sample cosine; when every sample's output is one value (a score, a probability) the
   * cosine of those values across the samples instead: one value's own cosine is only its sign.
   */
  cosineSimilarity: number;
  cosineAcrossSamples: boolean;
  snrDb: number;
  top1Agreement: number;
  elements: number;
  samples: number;
  rows: number;
}

export interface FidelityAccumulator {
  add(reference: ArrayLike<number>, candidate: ArrayLike<number>, rowLength: number): void;
  summary(): FidelitySummary;
}

/** Cosine from a dot product and two squared norms; two all-zero vectors agree perfectly. */
function cosineOf(dot: number, aNorm: number, bNorm: number): number {
  return aNorm === 0 && bNorm === 0 ? 1 : aNorm === 0 || bNorm === 0 ? 0 : dot / Math.sqrt(aNorm * bNorm);
}

export function createFidelityAccumulator(): FidelityAccumulator {
  let maxAbs = 0;
  let sumAbs = 0;
  let signal = 0;
  let noise = 0;
  let cosineSum = 0;
  let elements = 0;
  let samples = 0;
  let rows = 0;
  let agreeing = 0;
  // Sums over the samples whose output is one value, for their cosine across samples.
  const oneValue = { samples: 0, dot: 0, referenceNorm: 0, candidateNorm: 0 };
  return {
    add(reference, candidate, rowLength) {
      if (reference.length !== candidate.length) throw new RangeError(`output sizes differ: ${reference.length} vs ${candidate.length}`);
      let dot = 0;
      let refNorm = 0;
      let candNorm = 0;
      // The running totals live in locals during the loop (closure variables are several times slower to
      // update per element); the additions happen in the same order, so the sums are the same.
      let sampleMaxAbs = maxAbs;
      let sampleSumAbs = sumAbs;
      let sampleSignal = signal;
      let sampleNoise = noise;
      for (let i = 0; i < reference.length; i += 1) {
        const r = reference[i] as number;
        const c = candidate[i] as number;
        const diff = Math.abs(r - c);
        if (diff > sampleMaxAbs || Number.isNaN(diff)) sampleMaxAbs = diff;
        sampleSumAbs += diff;
        sampleSignal += r * r;
        sampleNoise += (r - c) * (r - c);
        dot += r * c;
        refNorm += r * r;
        candNorm += c * c;
      }
      maxAbs = sampleMaxAbs;
      sumAbs = sampleSumAbs;
      signal = sampleSignal;
      noise = sampleNoise;
      cosineSum += cosineOf(dot, refNorm, candNorm);
      const width = Math.max(1, rowLength);
      for (let offset = 0; offset + width <= reference.length; offset += width) {
        if (argmax(reference, offset, width) === argmax(candidate, offset, width)) agreeing += 1;
        rows += 1;
      }
      if (reference.length === 1) {
        oneValue.samples += 1;
        oneValue.dot += dot;
        oneValue.referenceNorm += refNorm;
        oneValue.candidateNorm += candNorm;
      }
      elements += reference.length;
      samples += 1;
    },
    summary() {
      const acrossSamples = samples > 0 && oneValue.samples === samples;
      return {
        maxAbsError: maxAbs,
        meanAbsError: elements === 0 ? 0 : sumAbs / elements,
        cosineSimilarity: acrossSamples ? cosineOf(oneValue.dot, oneValue.referenceNorm, oneValue.candidateNorm) : samples === 0 ? 0 : cosineSum / samples,
        cosineAcrossSamples: acrossSamples,
        snrDb: noise === 0 ? Infinity : 10 * Math.log10(signal / noise),
        top1Agreement: rows === 0 ? 0 : agreeing / rows,
        elements,
        samples,
        rows,
      };
    },
  };
}
