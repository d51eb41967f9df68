import type { MetricValues } from "../pareto/metric-catalog.js";
import type { Objective } from "../pareto/objective.js";

export type MemoryBasis = "modelMemoryBytes" | "rssIncreaseBytes" | "peakRssBytes";

/**
 * Ratios against the baseline. Side-by-side measurement already put `speedup` and
 * `memoryReduction` in the candidate's figures (paired in time, model-attributable memory); they
 * are kept. Otherwise (figures from separate measurements): speed-up from tokens/s or p50 latency,
 * memory reduction from the best memory figure both have. Returns which memory figure was used.
 */
export function deriveRelativeMetrics(candidate: MetricValues, baseline: MetricValues): { metrics: MetricValues; memoryBasis?: MemoryBasis } {
  const metrics: MetricValues = { ...candidate };
  const sideBySide = metrics.speedup !== undefined;
  if (!sideBySide && candidate.tokensPerSec !== undefined && baseline.tokensPerSec !== undefined && baseline.tokensPerSec > 0) {
    metrics.speedup = candidate.tokensPerSec / baseline.tokensPerSec;
  } else if (!sideBySide && candidate.p50LatencyMs !== undefined && baseline.p50LatencyMs !== undefined && candidate.p50LatencyMs > 0) {
    metrics.speedup = baseline.p50LatencyMs / candidate.p50LatencyMs;
  }
  if (metrics.memoryReduction !== undefined && candidate.modelMemoryBytes !== undefined) {
    if (candidate.sizeBytes !== undefined && baseline.sizeBytes !== undefined && baseline.sizeBytes > 0) metrics.sizeReduction = 1 - candidate.sizeBytes / baseline.sizeBytes;
    return { metrics, memoryBasis: "modelMemoryBytes" };
  }
  const basis =
    candidate.modelMemoryBytes !== undefined && baseline.modelMemoryBytes !== undefined && baseline.modelMemoryBytes > 0
      ? "modelMemoryBytes"
      : candidate.rssIncreaseBytes !== undefined && baseline.rssIncreaseBytes !== undefined && baseline.rssIncreaseBytes > 0
      ? "rssIncreaseBytes"
      : candidate.peakRssBytes !== undefined && baseline.peakRssBytes !== undefined && baseline.peakRssBytes > 0
        ? "peakRssBytes"
        : undefined;
  if (basis) metrics.memoryReduction = 1 - (candidate[basis] as number) / (baseline[basis] as number);
  if (candidate.sizeBytes !== undefined && baseline.sizeBytes !== undefined && baseline.sizeBytes > 0) {
    metrics.sizeReduction = 1 - candidate.sizeBytes / baseline.sizeBytes;
  }
  return basis ? { metrics, memoryBasis: basis } : { metrics };
}

/**
 * One number for the model-based sampler (lower is better): the weighted mean log-ratio of each
 * objective against the baseline, oriented so improvement is negative, plus a penalty per unit
 * of relative gate shortfall so candidates near the gates are explored first.
 */
export function candidateLoss(candidate: MetricValues, baseline: MetricValues, objectives: readonly Objective[], gateShortfall: number): number {
  let weighted = 0;
  let totalWeight = 0;
  for (const objective of objectives) {
    const value = candidate[objective.metric];
    const reference = baseline[objective.metric];
    const weight = objective.weight ?? 1;
    if (value === undefined || reference === undefined) continue;
    const change = value > 0 && reference > 0 ? Math.log(value / reference) : value - reference;
    weighted += weight * (objective.direction === "minimize" ? change : -change);
    totalWeight += weight;
  }
  return (totalWeight > 0 ? weighted / totalWeight : 0) + 10 * gateShortfall;
}
