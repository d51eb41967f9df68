import { describe, expect, it } from "vitest";
import { analyzeStep, type VersionWindow } from "./analyze-step.js";

const policy = { successRateMin: 0.99, p99LatencyMaxMs: 100, p99LatencyMaxRatio: 2, minRequests: 20, failureLimit: 0 };

/** `requests` requests with `failures` 5xx, all successful ones observed in the bucket ending at `seconds`. */
function window(requests: number, failures: number, seconds: number): VersionWindow {
  const ok = requests - failures;
  return { requests, failures, latencyBuckets: [{ le: seconds / 2, count: 0 }, { le: seconds, count: ok }, { le: Infinity, count: ok }] };
}

describe("analyzeStep", () => {
  it("passes a candidate within every threshold", () => {
    const result = analyzeStep(policy, window(100, 0, 0.01), window(400, 0, 0.01));
    expect(result.verdict).toBe("pass");
    expect(result.measured.candidateSuccessRate).toBe(1);
    // p99 of 100 observations in (5 ms, 10 ms]: 5 + 5 · 0.99 ms (tolerance 1e-9)
    expect(result.measured.candidateP99LatencyMs).toBeCloseTo(9.95, 9);
    expect(result.measured.p99LatencyRatio).toBeCloseTo(1, 9);
  });

  it("fails on the success rate, the absolute p99 or the ratio to stable", () => {
    expect(analyzeStep(policy, window(100, 2, 0.01), window(100, 0, 0.01)).reasons[0]).toMatch(/success rate 98.00 % < 99.00 %/);
    expect(analyzeStep(policy, window(100, 0, 0.25), window(100, 0, 0.25)).verdict).toBe("fail");
    const slow = analyzeStep({ ...policy, p99LatencyMaxMs: undefined }, window(100, 0, 0.05), window(100, 0, 0.01));
    expect(slow.verdict).toBe("fail");
    expect(slow.reasons.join()).toMatch(/×/);
    // The cause a rollback names: the failed criteria only.
    expect(slow.failedReasons).toEqual([slow.reasons.find((r) => r.includes("× stable"))]);
    expect(slow.failedReasons[0]).toMatch(/> 2×$/);
  });

  it("is inconclusive on too little candidate traffic even when every request failed, and skips the ratio without stable data", () => {
    const starved = analyzeStep(policy, window(5, 5, 0.01), window(1000, 0, 0.01));
    expect(starved.verdict).toBe("inconclusive");
    expect(starved.reasons[0]).toMatch(/too little traffic: 5 candidate request\(s\) < minRequests 20/);
    const noStable = analyzeStep(policy, window(100, 0, 0.01), window(3, 0, 0.001));
    expect(noStable.verdict).toBe("pass");
    expect(noStable.reasons.join()).toMatch(/not judged/);
  });

  it("fails when too many of the candidate's input features drifted, and says when drift cannot be judged", () => {
    const withDrift = { ...policy, driftMaxShare: 0.5 };
    const drifted = analyzeStep(withDrift, window(100, 0, 0.01), window(100, 0, 0.01), { status: "evaluated", driftedShare: 0.75 });
    expect(drifted.verdict).toBe("fail");
    expect(drifted.measured.candidateDriftedShare).toBe(0.75);
    expect(drifted.reasons.join()).toMatch(/drifted features 75.00 % ≥ 50.00 %/);
    expect(drifted.failedReasons).toEqual(["drifted features 75.00 % ≥ 50.00 %"]);
    expect(analyzeStep(withDrift, window(100, 0, 0.01), window(100, 0, 0.01), { status: "evaluated", driftedShare: 0.25 }).verdict).toBe("pass");
    const unjudged = analyzeStep(withDrift, window(100, 0, 0.01), window(100, 0, 0.01));
    expect(unjudged.verdict).toBe("pass");
    expect(unjudged.reasons.join()).toMatch(/drift not judged: no drift reference/);
  });
});
