import { formatMetricValue } from "../pareto/format-metric.js";
import type { GateResult } from "./evaluate-gates.js";

/** "speedup 1.6 (needs >= 2): missed by 0.4 (20%)" — the line people read in every rendering. */
export function describeGateResult(result: GateResult): string {
  const measured = formatMetricValue(result.metric, result.measured);
  if (result.reason) return `${result.gate}: ${result.reason} (needs ${result.requirement})`;
  const needs = `${result.op ?? ""} ${formatMetricValue(result.metric, result.threshold)}`.trim();
  const margin = formatMetricValue(result.metric, Math.abs(result.margin ?? 0));
  const percent = result.relativeMargin === undefined ? "" : ` (${(Math.abs(result.relativeMargin) * 100).toFixed(1)}%)`;
  return result.passed
    ? `${result.gate}: ${result.metric} ${measured} (needs ${needs}): passed with ${margin}${percent} to spare`
    : `${result.gate}: ${result.metric} ${measured} (needs ${needs}): missed by ${margin}${percent}`;
}
