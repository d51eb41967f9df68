import type { ComparisonOp } from "../pareto/constraint.js";
import { satisfiesOp } from "../pareto/constraint.js";
import type { MetricName, MetricValues } from "../pareto/metric-catalog.js";
import { describeGate, resolveGateBound, type Gate } from "./gate.js";

export interface GateResult {
  gate: string;
  metric: MetricName;
  goal: Gate["goal"];
  priority: number;
  /** What must hold, in words. */
  requirement: string;
  passed: boolean;
  measured?: number;
  baseline?: number;
  /** The bound the measured value was compared with, in the metric's unit. */
  threshold?: number;
  op?: ComparisonOp;
  /** Signed distance to the bound in the metric's unit: ≥ 0 passes, < 0 is by how much it missed. */
  margin?: number;
  /** margin / |threshold|: comparable across metrics. */
  relativeMargin?: number;
  /** Why it failed without a margin (not measured, no baseline), or why it is inconclusive. */
  reason?: string;
  /** For ratio metrics measured with an interval: the interval the gate was judged on. */
  interval?: MetricInterval;
  outcome?: "pass" | "fail" | "inconclusive";
}

export interface MetricInterval {
  low: number;
  high: number;
  /** e.g. 0.95 */
  level: number;
}

/** Confidence intervals by metric; a gate on such a metric is judged on the whole interval. */
export type MetricIntervals = Partial<Record<MetricName, MetricInterval>>;

export interface CandidateVerdict {
  candidateId: string;
  passed: boolean;
  results: GateResult[];
}

export function evaluateGates(gates: readonly Gate[], candidate: MetricValues, baseline: MetricValues, intervals: MetricIntervals = {}): GateResult[] {
  return gates.map((gate) => {
    const measured = candidate[gate.metric];
    const baselineValue = baseline[gate.metric];
    const resolved = resolveGateBound(gate, baselineValue);
    const base = {
      gate: gate.name,
      metric: gate.metric,
      goal: gate.goal,
      priority: gate.priority,
      requirement: describeGate(gate),
      measured,
      baseline: baselineValue,
      threshold: resolved?.bound,
      op: resolved?.op,
    };
    if (!resolved) return { ...base, passed: false, margin: undefined, relativeMargin: undefined, reason: `the baseline's ${gate.metric} was not measured` };
    if (measured === undefined) return { ...base, passed: false, margin: undefined, relativeMargin: undefined, reason: `${gate.metric} was not measured for this candidate` };
    const upper = resolved.op === "<=" || resolved.op === "<";
    const margin = upper ? resolved.bound - measured : measured - resolved.bound;
    const relativeMargin = resolved.bound === 0 ? margin : margin / Math.abs(resolved.bound);
    const interval = intervals[gate.metric];
    if (interval && Number.isFinite(interval.low) && Number.isFinite(interval.high)) {
      // Judged on the interval: the whole of it must clear the bound; straddling it is no pass.
      const lowOk = satisfiesOp(interval.low, resolved.op, resolved.bound);
      const highOk = satisfiesOp(interval.high, resolved.op, resolved.bound);
      const outcome = lowOk && highOk ? "pass" : !lowOk && !highOk ? "fail" : "inconclusive";
      const level = Math.round(interval.level * 100);
      return {
        ...base,
        passed: outcome === "pass",
        margin,
        relativeMargin,
        interval,
        outcome,
        ...(outcome === "inconclusive" ? { reason: `inconclusive: the ${level}% interval [${interval.low.toFixed(3)}, ${interval.high.toFixed(3)}] straddles ${resolved.bound}` } : {}),
      };
    }
    const passed = satisfiesOp(measured, resolved.op, resolved.bound);
    return { ...base, passed, margin, relativeMargin, outcome: passed ? "pass" : "fail" };
  });
}

export function judgeCandidate(candidateId: string, gates: readonly Gate[], candidate: MetricValues, baseline: MetricValues, intervals: MetricIntervals = {}): CandidateVerdict {
  const results = evaluateGates(gates, candidate, baseline, intervals);
  return { candidateId, passed: results.every((r) => r.passed), results };
}

export interface ClosestCandidate {
  candidateId: string;
  missed: GateResult[];
}

/**
 * When nothing passes, name the near-miss: fewest failed gates at the highest priority first,
 * then fewest failures overall, then the smallest total relative shortfall (unmeasured counts as 1).
 */
export function findClosestCandidate(verdicts: readonly CandidateVerdict[]): ClosestCandidate | undefined {
  const priorities = [...new Set(verdicts.flatMap((v) => v.results.map((r) => r.priority)))].sort((a, b) => a - b);
  const key = (verdict: CandidateVerdict): number[] => {
    const failed = verdict.results.filter((r) => !r.passed);
    const shortfall = failed.reduce((sum, r) => sum + (r.relativeMargin === undefined ? 1 : Math.abs(r.relativeMargin)), 0);
    return [...priorities.map((p) => failed.filter((r) => r.priority === p).length), failed.length, shortfall];
  };
  let best: { verdict: CandidateVerdict; key: number[] } | undefined;
  for (const verdict of verdicts) {
    const candidateKey = key(verdict);
    if (!best || compareKeys(candidateKey, best.key) < 0) best = { verdict, key: candidateKey };
  }
  return best && { candidateId: best.verdict.candidateId, missed: best.verdict.results.filter((r) => !r.passed) };
}

function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i += 1) {
    const diff = (a[i] as number) - (b[i] as number);
    if (diff !== 0) return diff;
  }
  return 0;
}
