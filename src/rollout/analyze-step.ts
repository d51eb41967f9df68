import { histogramQuantile, type HistogramBucket } from "../stats/histogram-quantile.js";
import type { RolloutAnalysisPolicy } from "./rollout-plan.js";

/** What one version did in a window: requests, 5xx answers, and the request-duration histogram (seconds, cumulative). */
export interface VersionWindow {
  requests: number;
  failures: number;
  latencyBuckets: HistogramBucket[];
}

export type AnalysisVerdict = "pass" | "fail" | "inconclusive";

/** The candidate's input drift from the server's drift monitor, or why there is none (no --reference, too few rows). */
export type CandidateDrift = { status: "evaluated"; driftedShare: number } | { status: "no-reference" | "too-few-rows" | "not-evaluated" };

export interface StepAnalysis {
  verdict: AnalysisVerdict;
  /** One line per criterion: why it passed, failed, or could not be judged. */
  reasons: string[];
  /** The lines of `reasons` whose criterion failed (what a rollback names as its cause). */
  failedReasons: string[];
  measured: {
    candidateRequests: number;
    candidateFailures: number;
    candidateSuccessRate?: number;
    candidateP99LatencyMs?: number;
    stableRequests: number;
    stableSuccessRate?: number;
    stableP99LatencyMs?: number;
    p99LatencyRatio?: number;
    candidateDriftedShare?: number;
  };
  thresholds: RolloutAnalysisPolicy;
}

const p99 = (window: VersionWindow): number | undefined => {
  const seconds = histogramQuantile(0.99, window.latencyBuckets);
  return seconds === undefined ? undefined : seconds * 1000;
};

const percent = (value: number): string => `${(value * 100).toFixed(2)} %`;

/**
 * Judge one analysis window of the candidate against the stable version. Too little candidate traffic is
 * inconclusive whatever the numbers say: a step is never promoted and never rolled back on no data.
 * The latency ratio is judged only when the stable version has at least `minRequests` requests too.
 */
export function analyzeStep(policy: RolloutAnalysisPolicy, candidate: VersionWindow, stable: VersionWindow, drift: CandidateDrift = { status: "no-reference" }): StepAnalysis {
  const candidateP99 = p99(candidate);
  const stableP99 = p99(stable);
  const measured: StepAnalysis["measured"] = {
    candidateRequests: candidate.requests,
    candidateFailures: candidate.failures,
    ...(candidate.requests > 0 ? { candidateSuccessRate: 1 - candidate.failures / candidate.requests } : {}),
    ...(candidateP99 === undefined ? {} : { candidateP99LatencyMs: candidateP99 }),
    stableRequests: stable.requests,
    ...(stable.requests > 0 ? { stableSuccessRate: 1 - stable.failures / stable.requests } : {}),
    ...(stableP99 === undefined ? {} : { stableP99LatencyMs: stableP99 }),
    ...(candidateP99 !== undefined && stableP99 !== undefined && stableP99 > 0 ? { p99LatencyRatio: candidateP99 / stableP99 } : {}),
    ...(drift.status === "evaluated" ? { candidateDriftedShare: drift.driftedShare } : {}),
  };
  if (candidate.requests < policy.minRequests) {
    return {
      verdict: "inconclusive",
      reasons: [`too little traffic: ${candidate.requests} candidate request(s) < minRequests ${policy.minRequests}; holding the step (never promoted or rolled back on no data)`],
      failedReasons: [],
      measured,
      thresholds: policy,
    };
  }
  const reasons: string[] = [];
  const failedReasons: string[] = [];
  const judge = (failed: boolean, reason: string): void => {
    reasons.push(reason);
    if (failed) failedReasons.push(reason);
  };
  const successRate = measured.candidateSuccessRate ?? 0;
  if (successRate < policy.successRateMin) judge(true, `success rate ${percent(successRate)} < ${percent(policy.successRateMin)} (${candidate.failures} of ${candidate.requests} failed)`);
  else judge(false, `success rate ${percent(successRate)} ≥ ${percent(policy.successRateMin)}`);
  if (policy.p99LatencyMaxMs !== undefined && candidateP99 !== undefined) {
    const over = candidateP99 > policy.p99LatencyMaxMs;
    judge(over, `p99 ${candidateP99.toFixed(1)} ms ${over ? ">" : "≤"} ${policy.p99LatencyMaxMs} ms`);
  }
  if (policy.p99LatencyMaxRatio !== undefined) {
    if (stable.requests < policy.minRequests || measured.p99LatencyRatio === undefined) {
      reasons.push(`p99 ratio to stable not judged: the stable version had ${stable.requests} request(s) < minRequests ${policy.minRequests}`);
    } else {
      const over = measured.p99LatencyRatio > policy.p99LatencyMaxRatio;
      judge(over, `p99 ${measured.p99LatencyRatio.toFixed(2)}× stable ${over ? ">" : "≤"} ${policy.p99LatencyMaxRatio}×`);
    }
  }
  if (policy.driftMaxShare !== undefined) {
    if (drift.status !== "evaluated") reasons.push(`drift not judged: ${drift.status === "no-reference" ? "no drift reference (serve --reference)" : `the drift monitor has not evaluated the candidate (${drift.status})`}`);
    else {
      const over = drift.driftedShare >= policy.driftMaxShare;
      judge(over, `drifted features ${percent(drift.driftedShare)} ${over ? "≥" : "<"} ${percent(policy.driftMaxShare)}`);
    }
  }
  return { verdict: failedReasons.length > 0 ? "fail" : "pass", reasons, failedReasons, measured, thresholds: policy };
}
