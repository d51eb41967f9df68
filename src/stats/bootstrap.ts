import { percentileOfSorted } from "./describe-samples.js";
import type { Random } from "./random.js";

export interface ConfidenceInterval {
  low: number;
  high: number;
  /** e.g. 0.95 */
  level: number;
}

/**
 * Percentile-bootstrap confidence interval of a statistic (default: the median). Resamples
 * `resamples` times with the injected generator, so intervals are reproducible.
 */
export function bootstrapInterval(
  values: ArrayLike<number>,
  random: Random,
  options: { resamples?: number; level?: number; statistic?: (sortedSample: Float64Array) => number } = {},
): ConfidenceInterval {
  const resamples = options.resamples ?? 1000;
  const level = options.level ?? 0.95;
  const statistic = options.statistic ?? ((sorted: Float64Array) => percentileOfSorted(sorted, 0.5));
  const n = values.length;
  if (n === 0) return { low: Number.NaN, high: Number.NaN, level };
  const sample = new Float64Array(n);
  const estimates = new Float64Array(resamples);
  for (let r = 0; r < resamples; r += 1) {
    for (let i = 0; i < n; i += 1) sample[i] = values[random.int(0, n)] as number;
    sample.sort();
    estimates[r] = statistic(sample);
  }
  estimates.sort();
  const tail = (1 - level) / 2;
  return { low: percentileOfSorted(estimates, tail), high: percentileOfSorted(estimates, 1 - tail), level };
}
