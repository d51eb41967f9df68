import type { AlertBudgets } from "./alert-budgets.js";
import { alertSummary, buildAlertRules, type AlertName } from "./alert-rules.js";

/** A `promtool test rules` file. */
export interface PromtoolRuleTests {
  rule_files: string[];
  evaluation_interval: string;
  tests: Array<{
    name: string;
    interval: string;
    input_series: Array<{ series: string; values: string }>;
    alert_rule_test: Array<{ eval_time: string; alertname: AlertName; exp_alerts: Array<{ exp_labels: Record<string, string>; exp_annotations: Record<string, string> }> }>;
  }>;
}

/**
 * Unit tests for the rules of `buildAlertRules`: for each alert, version "1" breaks the budget and
 * version "2" keeps it, so the alert must fire for "1" only — and not before its `for` time.
 */
export function buildAlertRuleTests(budgets: AlertBudgets, rulesFile: string): PromtoolRuleTests {
  const rules = buildAlertRules(budgets).groups[0]!.rules;
  const m = budgets.model;
  const expected = (alert: AlertName, version: string) => {
    const rule = rules.find((r) => r.alert === alert)!;
    return { exp_labels: { ...rule.labels, model: m, version }, exp_annotations: { summary: alertSummary(alert, budgets, { model: m, version }), description: rule.annotations.description } };
  };
  const labels = (version: string, extra: string): string => `{model="${m}",version="${version}"${extra}}`;

  /** All requests of version 1 fall into (2·budget, 4·budget], all of version 2 into (0, budget/2]. */
  const latencyTest = (alert: AlertName, budgetMs: number) => {
    const b = budgetMs / 1000;
    // The request histogram carries protocol and status labels; the time-to-first-token one only model and version.
    const extra = budgets.latency.metric === "edgeforge_request_duration_seconds" ? ',protocol="oip",status="200"' : "";
    const bucket = (version: string, le: number | "+Inf", filled: boolean) => ({ series: `${budgets.latency.metric}_bucket${labels(version, `${extra},le="${le}"`)}`, values: filled ? "0+60x30" : "0x30" });
    return {
      name: `${alert}: version 1 slower than the budget, version 2 faster`,
      interval: "1m",
      input_series: [bucket("1", b / 2, false), bucket("1", 2 * b, false), bucket("1", 4 * b, true), bucket("1", "+Inf", true), bucket("2", b / 2, true), bucket("2", 2 * b, true), bucket("2", 4 * b, true), bucket("2", "+Inf", true)],
      alert_rule_test: [
        { eval_time: "3m", alertname: alert, exp_alerts: [] },
        { eval_time: "15m", alertname: alert, exp_alerts: [expected(alert, "1")] },
      ],
    };
  };

  // 600 requests a minute; version 1 answers a share between the threshold and 1 with 5xx
  const errorsPerMinute = Math.max(1, Math.ceil(600 * Math.min(1, (1 + budgets.errorRate) / 2)));
  const tests: PromtoolRuleTests["tests"] = [latencyTest("EdgeforgeLatencyP95High", budgets.p95Ms), latencyTest("EdgeforgeLatencyP99High", budgets.p99Ms)];
  if (budgets.errorRate < 1) {
    tests.push({
      name: "EdgeforgeErrorRateHigh: version 1 fails above the threshold, version 2 never",
      interval: "1m",
      input_series: [
        { series: `edgeforge_requests_total${labels("1", ',protocol="oip",status="200"')}`, values: `0+${600 - errorsPerMinute}x20` },
        { series: `edgeforge_requests_total${labels("1", ',protocol="oip",status="500"')}`, values: `0+${errorsPerMinute}x20` },
        { series: `edgeforge_requests_total${labels("2", ',protocol="oip",status="200"')}`, values: "0+600x20" },
      ],
      alert_rule_test: [
        { eval_time: "1m", alertname: "EdgeforgeErrorRateHigh", exp_alerts: [] },
        { eval_time: "10m", alertname: "EdgeforgeErrorRateHigh", exp_alerts: [expected("EdgeforgeErrorRateHigh", "1")] },
      ],
    });
  }
  // from 10 req/s to a rate just under the drop share at minute 70 (the baseline needs an hour of history)
  const baselinePerMinute = Math.max(600, Math.ceil(budgets.minBaselineRps * 60 * 10));
  const droppedPerMinute = Math.floor(baselinePerMinute * budgets.throughputDropShare * 0.5);
  tests.push({
    name: "EdgeforgeThroughputDrop: traffic falls below the share of an hour earlier",
    interval: "1m",
    input_series: [{ series: `edgeforge_requests_total${labels("1", ',protocol="oip",status="200"')}`, values: `0+${baselinePerMinute}x70 ${baselinePerMinute * 70 + droppedPerMinute}+${droppedPerMinute}x40` }],
    alert_rule_test: [
      { eval_time: "65m", alertname: "EdgeforgeThroughputDrop", exp_alerts: [] },
      { eval_time: "95m", alertname: "EdgeforgeThroughputDrop", exp_alerts: [{ ...expected("EdgeforgeThroughputDrop", "all") }] },
    ],
  });
  const flagTest = (alert: AlertName, metric: string, bad: string, good: string, early: string, late: string) => ({
    name: `${alert}: ${metric} of version 1 changes, version 2's does not`,
    interval: "1m",
    input_series: [
      { series: `${metric}${labels("1", "")}`, values: bad },
      { series: `${metric}${labels("2", "")}`, values: good },
    ],
    alert_rule_test: [
      { eval_time: early, alertname: alert, exp_alerts: [] },
      { eval_time: late, alertname: alert, exp_alerts: [expected(alert, "1")] },
    ],
  });
  tests.push(flagTest("EdgeforgeDriftDetected", "edgeforge_drifted", "0x5 1x20", "0x25", "8m", "15m"));
  tests.push(flagTest("EdgeforgeModelNotReady", "edgeforge_model_ready", "1x5 0x10", "1x15", "5m", "10m"));
  return { rule_files: [rulesFile], evaluation_interval: "1m", tests };
}
