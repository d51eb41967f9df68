import type { ComparisonOp } from "../pareto/constraint.js";
import { metricInfo, type MetricName } from "../pareto/metric-catalog.js";
import { formatMetricValue } from "../pareto/format-metric.js";

/**
 * Olive's goal vocabulary: an absolute threshold, or a change against the baseline measured in
 * the same run, absolute or in percent. "Improvement" follows the metric's direction (lower
 * latency, higher accuracy).
 */
export const goalTypes = [
  "threshold",
  "min-improvement",
  "max-degradation",
  "percent-min-improvement",
  "percent-max-degradation",
] as const;
export type GoalType = (typeof goalTypes)[number];

export interface Gate {
  name: string;
  metric: MetricName;
  goal: GoalType;
  /** In the metric's unit; for percent goals, percent points (50 = 50%). */
  value: number;
  /** Threshold goals only: defaults to `<=` for metrics to minimize and `>=` for those to maximize. */
  op?: ComparisonOp;
  /** 1 = most important. Decides which near-miss is "closest" when nothing passes. */
  priority: number;
}

export interface GateBound {
  op: ComparisonOp;
  /** The value the candidate's metric is compared with, in the metric's unit. */
  bound: number;
}

/** Turn any goal into a bound on the candidate's own value, given the baseline's. */
export function resolveGateBound(gate: Gate, baselineValue: number | undefined): GateBound | undefined {
  const lowerIsBetter = metricInfo(gate.metric).direction === "minimize";
  const betterOp: ComparisonOp = lowerIsBetter ? "<=" : ">=";
  if (gate.goal === "threshold") return { op: gate.op ?? betterOp, bound: gate.value };
  if (baselineValue === undefined) return undefined;
  // +1: the bound moves in the "better" direction; −1: it allows movement in the "worse" one.
  const towardBetter = gate.goal === "min-improvement" || gate.goal === "percent-min-improvement" ? 1 : -1;
  const change = gate.goal.startsWith("percent-") ? (Math.abs(baselineValue) * gate.value) / 100 : gate.value;
  const delta = towardBetter * change * (lowerIsBetter ? -1 : 1);
  return { op: betterOp, bound: baselineValue + delta };
}

/** One line a person reads in a report: what must hold. */
export function describeGate(gate: Gate): string {
  switch (gate.goal) {
    case "threshold": {
      const op = gate.op ?? (metricInfo(gate.metric).direction === "minimize" ? "<=" : ">=");
      return `${gate.metric} ${op} ${formatMetricValue(gate.metric, gate.value)}`;
    }
    case "min-improvement":
      return `${gate.metric} improves on the baseline by at least ${formatMetricValue(gate.metric, gate.value)}`;
    case "max-degradation":
      return `${gate.metric} worsens from the baseline by at most ${formatMetricValue(gate.metric, gate.value)}`;
    case "percent-min-improvement":
      return `${gate.metric} improves on the baseline by at least ${gate.value}%`;
    case "percent-max-degradation":
      return `${gate.metric} worsens from the baseline by at most ${gate.value}%`;
  }
}
