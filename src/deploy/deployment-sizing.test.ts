import { describe, expect, it } from "vitest";
import type { CertificationFacts } from "./certification-facts.js";
import { sizeDeployment } from "./deployment-sizing.js";

const mebibyte = 1024 * 1024;

function facts(levels: CertificationFacts["stress"]["levels"]): CertificationFacts {
  return {
    machine: { cpu: "Test CPU", logicalThreads: 8, fingerprint: "f" },
    stress: { method: "sweep", expectedConcurrency: 2, levels },
    monitoring: { expectedConcurrency: 2, latency: { p95BudgetMs: 10, p99BudgetMs: 20 }, errorRateThreshold: 0.01 },
  } as unknown as CertificationFacts;
}

const level = (concurrency: number, extra: Record<string, number> = {}): CertificationFacts["stress"]["levels"][number] => ({ concurrency, p50Ms: 5, p95Ms: 8, p99Ms: 9, throughputPerSec: 100 * concurrency, rssEndBytes: 200 * mebibyte, errors: 0, ...extra });

describe("sizeDeployment", () => {
  it("sizes CPU from the measured CPU time per request at the certified throughput", () => {
    // 2 in flight: 200 requests/s × 4 ms CPU each = 0.8 cores; 4 in flight kept 1.6 cores busy
    const sizing = sizeDeployment(facts([level(1, { cpuMsPerRequest: 4, cpuCores: 0.4 }), level(2, { cpuMsPerRequest: 4, cpuCores: 0.8 }), level(4, { cpuMsPerRequest: 4, cpuCores: 1.6 })]), 4);
    expect(sizing.cpuSource).toBe("measured");
    expect(sizing.cpuRequest).toBeCloseTo(1.05, 9);
    // limit = 1.5 × (1.6 + 0.25) = 2.775, rounded up to 10 millicores
    expect(sizing.cpuLimit).toBeCloseTo(2.78, 9);
    expect(sizing.method).toContain("4.00 ms at 2 in flight");
    expect(sizing.memoryRequestBytes).toBe(328 * mebibyte);
  });

  it("falls back to the thread count for certifications without CPU time, labelled as an estimate", () => {
    const sizing = sizeDeployment(facts([level(1), level(2)]), 2);
    expect(sizing.cpuSource).toBe("estimate");
    expect([sizing.cpuRequest, sizing.cpuLimit]).toEqual([2.25, 3]);
    expect(sizing.method).toContain("an estimate, because this certification records no CPU time");
  });
});
