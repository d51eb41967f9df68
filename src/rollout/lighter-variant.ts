import { computeFrontier, type FrontierPoint } from "../pareto/frontier.js";
import type { MetricName } from "../pareto/metric-catalog.js";
import type { Objective } from "../pareto/objective.js";

/** One registry version as the latency action sees it: certified or not, its size and its newest measured metrics. */
export interface VariantFacts {
  version: string;
  certified: boolean;
  sizeBytes: number;
  /** Newest value of each metric over the version's evaluations. */
  metrics: Partial<Record<MetricName, number>>;
}

export type LighterVariantChoice = { version: string; reason: string } | { version?: undefined; reason: string };

const qualityMetrics: MetricName[] = ["accuracy", "accuracyRetention", "top1Agreement", "cosineSimilarity"];

/**
 * The next lighter certified variant on the model's Pareto frontier: among certified versions, the frontier
 * over (p50 latency when every one has it, size, quality when measured); of the frontier versions lighter
 * than `current` (faster, or smaller when latency is not known for all), the heaviest — one step down, not the
 * lightest, so quality is given up as little as possible.
 */
export function chooseLighterVariant(variants: readonly VariantFacts[], current: string): LighterVariantChoice {
  const self = variants.find((v) => v.version === current);
  if (!self) return { reason: `version ${current} is not in the registry` };
  const pool = variants.filter((v) => v.certified || v.version === current);
  if (pool.length < 2) return { reason: "no other certified (approved) version of the model is registered" };
  const byLatency = pool.every((v) => v.metrics.p50LatencyMs !== undefined);
  const quality = qualityMetrics.find((metric) => pool.some((v) => v.metrics[metric] !== undefined));
  const objectives: Objective[] = [
    ...(byLatency ? [{ metric: "p50LatencyMs" as const, direction: "minimize" as const }] : []),
    { metric: "sizeBytes", direction: "minimize" },
    ...(quality ? [{ metric: quality, direction: "maximize" as const }] : []),
  ];
  const points: FrontierPoint[] = pool.map((v) => ({ id: v.version, values: { ...v.metrics, sizeBytes: v.sizeBytes } }));
  const frontier = new Set(computeFrontier(points, objectives, { relativeTolerance: 0.01 }).frontierIds);
  const weight = (v: VariantFacts): number => (byLatency ? (v.metrics.p50LatencyMs as number) : v.sizeBytes);
  const lighter = pool.filter((v) => v.version !== current && v.certified && frontier.has(v.version) && weight(v) < weight(self)).sort((a, b) => weight(b) - weight(a));
  const basis = byLatency ? "p50 latency" : "size";
  const chosen = lighter[0];
  if (!chosen) return { reason: `no certified version on the Pareto frontier (${objectives.map((o) => o.metric).join(", ")}) is lighter than ${current} by ${basis}` };
  return { version: chosen.version, reason: `next lighter certified version on the Pareto frontier by ${basis}: ${weight(chosen)} < ${weight(self)} ${byLatency ? "ms" : "bytes"}` };
}
