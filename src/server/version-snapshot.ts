import type { VersionWindow } from "../rollout/analyze-step.js";
import type { ServerMetrics } from "./server-metrics.js";

/** One version's cumulative request counters and duration histogram at an instant (all protocols). */
export interface VersionSnapshot {
  requests: number;
  /** Requests answered with a 5xx status. */
  failures: number;
  /** Cumulative count of non-5xx request durations ≤ each bucket bound (seconds; Infinity for +Inf). */
  buckets: Map<number, number>;
}

export const emptySnapshot = (): VersionSnapshot => ({ requests: 0, failures: 0, buckets: new Map() });

const isFailure = (status: unknown): boolean => Number(status) >= 500;

/** Read the server's own metrics for one model version. */
export async function snapshotVersion(metrics: ServerMetrics, labels: { model: string; version: string }): Promise<VersionSnapshot> {
  const snapshot = emptySnapshot();
  const ours = (l: Record<string, unknown>): boolean => l.model === labels.model && l.version === labels.version;
  for (const { value, labels: l } of (await metrics.requests.get()).values) {
    if (!ours(l)) continue;
    snapshot.requests += value;
    if (isFailure(l.status)) snapshot.failures += value;
  }
  for (const { value, labels: l, metricName } of (await metrics.requestDuration.get()).values) {
    if (!metricName?.endsWith("_bucket") || !ours(l) || isFailure(l.status)) continue;
    const bound = (l as Record<string, unknown>).le;
    const le = bound === "+Inf" ? Infinity : Number(bound);
    snapshot.buckets.set(le, (snapshot.buckets.get(le) ?? 0) + value);
  }
  return snapshot;
}

/** What happened between two snapshots of the same version. */
export function windowBetween(start: VersionSnapshot, end: VersionSnapshot): VersionWindow {
  return {
    requests: end.requests - start.requests,
    failures: end.failures - start.failures,
    latencyBuckets: [...end.buckets].map(([le, count]) => ({ le, count: count - (start.buckets.get(le) ?? 0) })),
  };
}
