import { bootstrapInterval } from "./bootstrap.js";
import { median } from "./describe-samples.js";
import type { Random } from "./random.js";

/**
 * A ratio measured side by side: one value per block pair (baseline block and candidate block run
 * back to back), summarized by the median with a percentile-bootstrap interval. Pairing in time is
 * what makes the ratio survive load from other processes: a busy second slows both blocks of a pair.
 */
export interface RatioEstimate {
  /** Median of the per-pair ratios. */
  ratio: number;
  low: number;
  high: number;
  /** e.g. 0.95 */
  level: number;
  pairs: number;
}

/** "higher": the ratio must reach the threshold (speed-ups); "lower": it must stay under it. */
export type RatioDirection = "higher" | "lower";

export type RatioDecision = "pass" | "fail" | "inconclusive";

export function estimateRatio(perPairRatios: readonly number[], random: Random, options: { level?: number; resamples?: number } = {}): RatioEstimate {
  const level = options.level ?? 0.95;
  const values = perPairRatios.filter((r) => Number.isFinite(r));
  if (values.length === 0) return { ratio: Number.NaN, low: Number.NaN, high: Number.NaN, level, pairs: 0 };
  const interval = bootstrapInterval(values, random, { level, resamples: options.resamples ?? 2000 });
  return { ratio: median(values), low: interval.low, high: interval.high, level, pairs: values.length };
}

/**
 * Judge a ratio on its interval, not its point estimate: pass when the whole interval clears the
 * threshold, fail when the whole interval misses it, otherwise inconclusive (measure more).
 */
export function decideRatio(estimate: Pick<RatioEstimate, "low" | "high">, threshold: number, direction: RatioDirection = "higher"): RatioDecision {
  if (!Number.isFinite(estimate.low) || !Number.isFinite(estimate.high)) return "inconclusive";
  if (direction === "higher") {
    if (estimate.low >= threshold) return "pass";
    if (estimate.high < threshold) return "fail";
  } else {
    if (estimate.high <= threshold) return "pass";
    if (estimate.low > threshold) return "fail";
  }
  return "inconclusive";
}

/**
 * Per-pair speed ratios from block medians: baseline latency / candidate latency, so > 1 means the
 * candidate is faster. Pairs with a non-positive figure are dropped (a block with no runs).
 */
export function latencyRatios(baselineBlockMs: readonly number[], candidateBlockMs: readonly number[]): number[] {
  const n = Math.min(baselineBlockMs.length, candidateBlockMs.length);
  const ratios: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const b = baselineBlockMs[i] as number;
    const c = candidateBlockMs[i] as number;
    if (b > 0 && c > 0) ratios.push(b / c);
  }
  return ratios;
}

/** Per-pair rate ratios (throughput, tokens/s): candidate / baseline, > 1 means the candidate is faster. */
export function rateRatios(baselineBlockRates: readonly number[], candidateBlockRates: readonly number[]): number[] {
  return latencyRatios(candidateBlockRates, baselineBlockRates);
}

/** Whether two intervals share any value (e.g. a quiet and a loaded run of the same comparison). */
export function intervalsOverlap(a: Pick<RatioEstimate, "low" | "high">, b: Pick<RatioEstimate, "low" | "high">): boolean {
  return a.low <= b.high && b.low <= a.high;
}
