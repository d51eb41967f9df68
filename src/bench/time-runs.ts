import { describeSamples, percentileOfSorted } from "../stats/describe-samples.js";
import type { LatencyStats, StabilityCheck } from "../reports/bench-record.js";

export interface StoppingRule {
  /** Fixed count of timed runs; when absent the min-time rule applies. */
  iterations?: number;
  minTimeMs?: number;
  /** Min-time rule: keep going past minTimeMs until the mean is this precise (relative standard error)… */
  targetRelativeError?: number;
  /** …or this much time has passed. */
  maxTimeMs?: number;
  minIterations?: number;
}

export interface TimedRuns {
  rule: "iterations" | "min-time";
  latenciesNs: number[];
  /** Wall time of the whole timed loop, harness included. */
  measuredNs: number;
  /** Min-time rule: the precision target was met before the time cap (always true for fixed iterations). */
  converged: boolean;
}

export type Clock = () => bigint;

const defaultClock: Clock = () => process.hrtime.bigint();

/**
 * Time `run(i)` repeatedly with nanosecond timers. The per-run work outside `run` is one clock
 * read, one push and a couple of additions (the harness's overhead is measured by bench:harness).
 */
export async function timeRuns(run: (index: number) => Promise<unknown>, rule: StoppingRule, clock: Clock = defaultClock): Promise<TimedRuns> {
  const latenciesNs: number[] = [];
  const fixed = rule.iterations !== undefined;
  const minTimeNs = BigInt(Math.round((rule.minTimeMs ?? 1000) * 1e6));
  const maxTimeNs = BigInt(Math.round((rule.maxTimeMs ?? (rule.minTimeMs ?? 1000) * 5) * 1e6));
  const minIterations = rule.minIterations ?? 10;
  const target = rule.targetRelativeError ?? 0.01;
  // Welford running mean/variance for the precision check.
  let count = 0;
  let mean = 0;
  let m2 = 0;
  let converged = fixed;
  const started = clock();
  let previous = started;
  for (let index = 0; ; index += 1) {
    if (fixed) {
      if (index >= (rule.iterations as number)) break;
    } else if (count >= minIterations) {
      const elapsed = previous - started;
      if (elapsed >= minTimeNs) {
        const relativeError = mean > 0 ? Math.sqrt(m2 / (count - 1) / count) / mean : 0;
        if (relativeError <= target) {
          converged = true;
          break;
        }
        if (elapsed >= maxTimeNs) break;
      }
    }
    await run(index);
    const now = clock();
    const duration = Number(now - previous);
    previous = now;
    latenciesNs.push(duration);
    count += 1;
    const delta = duration - mean;
    mean += delta / count;
    m2 += delta * (duration - mean);
  }
  return { rule: fixed ? "iterations" : "min-time", latenciesNs, measuredNs: Number(previous - started), converged };
}

/**
 * Untimed runs for at least `settleMs` and at least `minRuns` runs (none when both are 0): a few warm-up runs
 * are not always warm (PP-OCRv4 det fp16 ran its first ~15 runs up to 2–3× slower), so both harnesses can
 * start timing from the settled state. Also a block's re-warm after the switch from another arm (minRuns 1).
 * Returns how many runs it took.
 */
export async function settleRuns(run: (index: number) => Promise<unknown>, settleMs: number, clock: Clock = defaultClock, minRuns = 0): Promise<number> {
  const until = clock() + BigInt(Math.round(settleMs * 1e6));
  let count = 0;
  while (count < minRuns || clock() < until) {
    await run(count);
    count += 1;
  }
  return count;
}

export function latencyStats(latenciesNs: readonly number[]): LatencyStats {
  const s = describeSamples(latenciesNs);
  const ms = (ns: number): number => ns / 1e6;
  return {
    count: s.count,
    minMs: ms(s.min),
    meanMs: ms(s.mean),
    p50Ms: ms(s.p50),
    p90Ms: ms(s.p90),
    p95Ms: ms(s.p95),
    p99Ms: ms(s.p99),
    maxMs: ms(s.max),
    sdMs: ms(s.sd),
    cv: s.cv,
  };
}

/** Flags figures that should be read with care: high spread, drift between halves, or no convergence. */
export function checkStability(timed: TimedRuns, cvThreshold: number): StabilityCheck {
  const samples = timed.latenciesNs;
  const half = Math.floor(samples.length / 2);
  let driftRatio = 0;
  if (half >= 2) {
    const first = Float64Array.from(samples.slice(0, half)).sort();
    const second = Float64Array.from(samples.slice(samples.length - half)).sort();
    const firstMedian = percentileOfSorted(first, 0.5);
    driftRatio = firstMedian > 0 ? percentileOfSorted(second, 0.5) / firstMedian - 1 : 0;
  }
  const flags: string[] = [];
  if (samples.length > 1 && describeSamples(samples).cv > cvThreshold) flags.push("high-cv");
  if (Math.abs(driftRatio) > cvThreshold) flags.push("drift");
  if (!timed.converged) flags.push("not-converged");
  return { cvThreshold, driftRatio, converged: timed.converged, flags };
}
