import type { MetricValues } from "../pareto/metric-catalog.js";
import type { Objective } from "../pareto/objective.js";

/**
 * Ratios against the baseline measured in the same run: speed-up (latency, or generation
 * tokens/s for LLMs), memory reduction (the model's own RSS increase when both have it, else
 * peak RSS) and size reduction. Returns which memory figure was used, for the report.
 */
export function deriveRelativeMetrics(candidate: MetricValues, baseline: MetricValues): { metrics: MetricValues; memoryBasis?: "rssIncreaseBytes" | "peakRssBytes" } {
  const metrics: MetricValues = { ...candidate };
  // Generation speed is what LLM users feel; for other models, median latency.
  if (candidate.tokensPerSec !== undefined && baseline.tokensPerSec !== undefined && baseline.tokensPerSec > 0) {
    metrics.speedup = candidate.tokensPerSec / baseline.tokensPerSec;
  } else if (candidate.p50LatencyMs !== undefined && baseline.p50LatencyMs !== undefined && candidate.p50LatencyMs > 0) {
    metrics.speedup = baseline.p50LatencyMs / candidate.p50LatencyMs;
  }
  const basis =
    candidate.rssIncreaseBytes !== undefined && baseline.rssIncreaseBytes !== undefined && baseline.rssIncreaseBytes > 0
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
