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
 * threads: single blocks 69–105 generated tokens/s over two windows, re-measured 19 % lower).
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

/** Decimals for the reference's figures: three significant digits or so. */
function digitsFor(pooled: PooledBaselineBlocks): number {
  return pooled.max >= 100 ? 0 : pooled.max >= 10 ? 1 : 2;
}

/** e.g. "moved 1.25× between the run's 4 measuring windows (window medians 78–98 generated tokens/s; single blocks 69–105)". */
export function formatBaselineMovement(pooled: PooledBaselineBlocks): string {
  const digits = digitsFor(pooled);
  const range = (low: number, high: number) => `${low.toFixed(digits)}–${high.toFixed(digits)}`;
  return `moved ${pooled.spread.toFixed(2)}× between the run's ${pooled.windows} measuring windows (window medians ${range(pooled.lowestMedian, pooled.highestMedian)} ${pooled.metric}; single blocks ${range(pooled.min, pooled.max)})`;
}

/** What ranking divides by when the reference moved between windows. */
export interface RankingSpeed {
  reference: PooledBaselineBlocks;
  /** Median of the windows' medians, in the reference's metric. */
  referenceMedian: number;
  speedupById: Map<string, number>;
}

interface RankedCandidate {
  id: string;
  metrics: { tokensPerSec?: number; promptTokensPerSec?: number; throughputPerSec?: number; p50LatencyMs?: number };
  baselineBlocks?: BaselineBlocks;
}

/** The candidate's own figure in the reference's metric (measured in its own window). */
function ownFigure(metric: string, metrics: RankedCandidate["metrics"]): number | undefined {
  if (metric === "generated tokens/s") return metrics.tokensPerSec;
  if (metric === "prompt tokens/s") return metrics.promptTokensPerSec;
  if (metric === "samples/s") return metrics.throughputPerSec;
  return metrics.p50LatencyMs;
}

/**
 * When the reference moved between windows (isUnsteady), each candidate's speed-up is divided by a different
 * reference, so candidates are ranked against one: their own figure over the median of the windows' medians.
 * Undefined when the reference held (the paired ratios are then the better figure: they cancel shared load).
 */
export function rankingSpeedups(candidates: readonly RankedCandidate[]): RankingSpeed | undefined {
  const reference = poolBaselineBlocks(candidates.map((c) => c.baselineBlocks));
  if (!isUnsteady(reference)) return undefined;
  const referenceMedian = median(candidates.flatMap((c) => (c.baselineBlocks?.metric === reference.metric ? [c.baselineBlocks.median] : [])));
  const latency = reference.metric === "ms p50";
  const speedupById = new Map<string, number>();
  for (const c of candidates) {
    const own = ownFigure(reference.metric, c.metrics);
    if (own !== undefined && own > 0) speedupById.set(c.id, latency ? referenceMedian / own : own / referenceMedian);
  }
  return { reference, referenceMedian, speedupById };
}

/** The recommendation's reason when ranking used one reference. */
export function describeRankingSpeed(speed: RankingSpeed): string {
  return `speed ranked against one reference, the input model's median over the run's ${speed.reference.windows} measuring windows (${speed.referenceMedian.toFixed(digitsFor(speed.reference))} ${speed.reference.metric}), not each window's own, as it moved ${speed.reference.spread.toFixed(2)}× between them`;
}
