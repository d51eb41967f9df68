import { EdgeforgeError } from "../core/errors.js";

/** Summary statistics of a sample; percentiles interpolate linearly between order statistics (R type 7, numpy's default). */
export interface SampleSummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
  /** Sample standard deviation (n − 1 denominator); 0 for a single value. */
  sd: number;
  /** Coefficient of variation sd / mean; 0 when the mean is 0. */
  cv: number;
}

/** Percentile `q` in [0, 1] of values sorted ascending. */
export function percentileOfSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new EdgeforgeError("INTERNAL", "percentile of an empty sample");
  const position = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const low = sorted[lower] as number;
  const high = sorted[upper] as number;
  return low + (high - low) * (position - lower);
}

export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < values.length; i += 1) sum += values[i] as number;
  return sum / values.length;
}

/** Sample standard deviation (n − 1), computed around the mean in a second pass for accuracy. */
export function standardDeviation(values: ArrayLike<number>): number {
  if (values.length < 2) return 0;
  const center = mean(values);
  let squares = 0;
  for (let i = 0; i < values.length; i += 1) {
    const delta = (values[i] as number) - center;
    squares += delta * delta;
  }
  return Math.sqrt(squares / (values.length - 1));
}

export function describeSamples(values: ArrayLike<number>): SampleSummary {
  if (values.length === 0) {
    throw new EdgeforgeError("MEASUREMENT_FAILED", "no samples to summarize", {
      hint: "raise --iterations or --min-time-ms so at least one measurement is taken",
    });
  }
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const center = mean(sorted);
  const sd = standardDeviation(sorted);
  return {
    count: sorted.length,
    min: sorted[0] as number,
    mean: center,
    p50: percentileOfSorted(sorted, 0.5),
    p90: percentileOfSorted(sorted, 0.9),
    p95: percentileOfSorted(sorted, 0.95),
    p99: percentileOfSorted(sorted, 0.99),
    max: sorted[sorted.length - 1] as number,
    sd,
    cv: center === 0 ? 0 : sd / center,
  };
}

/** Median of values (not necessarily sorted). */
export function median(values: ArrayLike<number>): number {
  return percentileOfSorted(Float64Array.from(values as ArrayLike<number>).sort(), 0.5);
}

/** (max − min) / median: how far apart repeated measurements of the same thing land. */
export function relativeSpread(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const middle = percentileOfSorted(sorted, 0.5);
  return middle === 0 ? 0 : ((sorted[sorted.length - 1] as number) - (sorted[0] as number)) / middle;
}
