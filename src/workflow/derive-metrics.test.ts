import { describe, expect, it } from "vitest";
import { candidateLoss, deriveRelativeMetrics } from "./derive-metrics.js";

describe("deriveRelativeMetrics (tolerance 1e-12)", () => {
  it("computes speed-up from p50 latency and memory reduction from the RSS increase when both have it", () => {
    const { metrics, memoryBasis } = deriveRelativeMetrics(
      { p50LatencyMs: 5, peakRssBytes: 150, rssIncreaseBytes: 20, sizeBytes: 25 },
      { p50LatencyMs: 10, peakRssBytes: 200, rssIncreaseBytes: 80, sizeBytes: 100 },
    );
    expect(metrics.speedup).toBeCloseTo(2, 12);
    expect(metrics.memoryReduction).toBeCloseTo(0.75, 12);
    expect(memoryBasis).toBe("rssIncreaseBytes");
    expect(metrics.sizeReduction).toBeCloseTo(0.75, 12);
  });

  it("falls back to peak RSS, and to tokens/s for LLMs", () => {
    const { metrics, memoryBasis } = deriveRelativeMetrics({ tokensPerSec: 300, peakRssBytes: 100 }, { tokensPerSec: 100, peakRssBytes: 200 });
    expect(metrics.speedup).toBeCloseTo(3, 12);
    expect(metrics.memoryReduction).toBeCloseTo(0.5, 12);
    expect(memoryBasis).toBe("peakRssBytes");
  });
});

describe("candidateLoss", () => {
  const objectives = [
    { metric: "p50LatencyMs" as const, direction: "minimize" as const, weight: 1 },
    { metric: "accuracyRetention" as const, direction: "maximize" as const, weight: 1 },
  ];
  it("is negative for improvements, zero for the baseline, and penalizes gate shortfall", () => {
    const baseline = { p50LatencyMs: 10, accuracyRetention: 1 };
    expect(candidateLoss(baseline, baseline, objectives, 0)).toBe(0);
    expect(candidateLoss({ p50LatencyMs: 5, accuracyRetention: 1 }, baseline, objectives, 0)).toBeLessThan(0);
    expect(candidateLoss({ p50LatencyMs: 20, accuracyRetention: 1 }, baseline, objectives, 0)).toBeGreaterThan(0);
    expect(candidateLoss({ p50LatencyMs: 5, accuracyRetention: 1 }, baseline, objectives, 0.3)).toBeGreaterThan(candidateLoss({ p50LatencyMs: 6, accuracyRetention: 1 }, baseline, objectives, 0));
  });
});
