import { describe, expect, it } from "vitest";
import { createRandom } from "../stats/random.js";
import { ModelMonitor } from "./model-monitor.js";
import type { MonitoredFeature } from "./request-features.js";

const features: MonitoredFeature[] = [
  { name: "x.mean", kind: "numeric" },
  { name: "prediction.confidence", kind: "numeric" },
  { name: "prediction.class", kind: "categorical" },
];

function row(random: ReturnType<typeof createRandom>, shift = 0): Float64Array {
  return Float64Array.from([random.normal(shift, 1), 0.5 + 0.4 * random.next(), random.int(0, 3)]);
}

describe("ModelMonitor", () => {
  it("keeps the last N requests: percentiles over 2xx, error rate over 5xx, throughput over the window's span", () => {
    let now = 0;
    const monitor = new ModelMonitor({ windowRequests: 10, method: "auto" }, () => now);
    // 15 requests one second apart: only the last 10 (latencies 6..15 ms) stay
    for (let i = 1; i <= 15; i += 1) {
      now = i * 1000;
      monitor.record({ latencyMs: i, status: i === 14 ? 503 : i === 15 ? 400 : 200 });
    }
    const snapshot = monitor.snapshot();
    expect(snapshot.window).toEqual({ requests: 10, seconds: 9, capacityRequests: 10 });
    // 2xx latencies 6..13 → numpy percentile(…, 50) = 9.5
    expect(snapshot.latencyMs!.p50).toBeCloseTo(9.5, 12);
    expect(snapshot.errorRate).toBeCloseTo(0.1, 12);
    expect(snapshot.throughputRps).toBeCloseTo(10 / 9, 12);
    expect(snapshot.drift.status).toBe("no-reference");
  });

  it("evaluates drift only when requests arrived since, and reports features, prediction summary and thresholds", () => {
    const random = createRandom(11);
    const monitor = new ModelMonitor({ windowRequests: 100, method: "auto" });
    const reference = Array.from({ length: 400 }, () => row(random));
    monitor.configure(features, { source: "ref.jsonl", rows: 400, columns: features.map((_, k) => Float64Array.from(reference, (r) => r[k]!)) });
    for (let i = 0; i < 20; i += 1) monitor.record({ latencyMs: 1, status: 200, features: row(random) });
    expect(monitor.evaluateDrift()).toBeUndefined();
    expect(monitor.snapshot().drift.status).toBe("too-few-rows");
    for (let i = 0; i < 100; i += 1) monitor.record({ latencyMs: 1, status: 200, features: row(random) });
    const first = monitor.evaluateDrift()!;
    expect(first.drifted).toBe(false);
    expect(monitor.evaluateDrift()).toBe(first);
    for (let i = 0; i < 100; i += 1) monitor.record({ latencyMs: 1, status: 200, features: row(random, 3) });
    expect(monitor.evaluateDrift()!.features[0]!.drifted).toBe(true);
    const snapshot = monitor.snapshot();
    expect(snapshot.drift).toMatchObject({ status: "evaluated", reference: { source: "ref.jsonl", rows: 400 }, referenceRows: 400, windowRows: 100, thresholds: { pValue: 0.05, distance: 0.1, driftedShare: 0.5 } });
    expect(snapshot.predictions.rows).toBe(100);
    expect(snapshot.predictions.confidence!.mean).toBeGreaterThan(0.5);
    expect(snapshot.predictions.classShares.reduce((sum, c) => sum + c.share, 0)).toBeCloseTo(1, 12);
  });
});
