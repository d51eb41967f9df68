import type { ArmResult } from "../bench/measure-side-by-side.js";
import type { SideBySideReport } from "../reports/report.js";
import { median } from "../stats/describe-samples.js";

export type BaselineBlocks = NonNullable<SideBySideReport["baselineBlocks"]>;

/**
 * The speed-up's reference moved this much (highest / lowest window median) between the measuring windows of
 * one run: flagged in the recommendation and by diagnose. Twice the 10 % within which a re-measurement is
 * expected to agree.
 */
export const unsteadyBaselineSpread = 1.2;

/** The reference of `speedup` (the input model at default settings) over one window's blocks, on the metric the ratio uses. */
export function describeBaselineBlocks(arm: ArmResult, decideOn: "generation" | "rate" | "latency"): BaselineBlocks | undefined {
  const [values, metric] =
    decideOn === "generation"
      ? [arm.blockGenerationPerSec, "generated tokens/s"]
      : decideOn === "rate"
        ? [arm.blockRatePerSec, arm.rateUnit === "tokens" ? "prompt tokens/s" : "samples/s"]
        : [arm.blockP50Ms, "ms p50"];
  const positive = (values ?? []).filter((v) => Number.isFinite(v) && v > 0);
  if (positive.length === 0) return undefined;
  return { metric, min: Math.min(...positive), median: median(positive), max: Math.max(...positive), blocks: positive.length };
}

/** The reference over the measuring windows of a run (each candidate's measurement has its own window). */
export interface PooledBaselineBlocks {
  metric: string;
  windows: number;
  /** Lowest and highest window median, and their ratio (≥ 1). */
  lowestMedian: number;
  highestMedian: number;
  spread: number;
  /** Single blocks over all windows. */
  min: number;
  max: number;
  blocks: number;
}

/**
 * Every window of the run together: the ratio of a window is median-based, so what another run can get is
 * bounded by how far the reference's median moves between windows minutes apart (tiny-fortunes at 2
 * threads: window medians 79–126 generated tokens/s over the four windows of one run).
 */
export function poolBaselineBlocks(windows: readonly (BaselineBlocks | undefined)[]): PooledBaselineBlocks | undefined {
  const metric = windows.find((w) => w !== undefined)?.metric;
  const same = windows.filter((w): w is BaselineBlocks => w !== undefined && w.metric === metric);
  if (metric === undefined || same.length === 0) return undefined;
  const medians = same.map((w) => w.median);
  const lowestMedian = Math.min(...medians);
  const highestMedian = Math.max(...medians);
  return {
    metric,
    windows: same.length,
    lowestMedian,
    highestMedian,
    spread: highestMedian / lowestMedian,
    min: Math.min(...same.map((w) => w.min)),
    max: Math.max(...same.map((w) => w.max)),
    blocks: same.reduce((sum, w) => sum + w.blocks, 0),
  };
}

/** Whether the reference moved enough between windows that a speed-up against it may not reproduce. */
export function isUnsteady(pooled: PooledBaselineBlocks | undefined): pooled is PooledBaselineBlocks {
  return pooled !== undefined && pooled.windows >= 2 && pooled.spread >= unsteadyBaselineSpread;
}

/** e.g. "moved 1.25× between the run's 4 measuring windows (window medians 78–98 generated tokens/s; single blocks 69–105)". */
export function formatBaselineMovement(pooled: PooledBaselineBlocks): string {
  const digits = pooled.max >= 100 ? 0 : pooled.max >= 10 ? 1 : 2;
  const range = (low: number, high: number) => `${low.toFixed(digits)}–${high.toFixed(digits)}`;
  return `moved ${pooled.spread.toFixed(2)}× between the run's ${pooled.windows} measuring windows (window medians ${range(pooled.lowestMedian, pooled.highestMedian)} ${pooled.metric}; single blocks ${range(pooled.min, pooled.max)})`;
}
