import type { AlertBudgets } from "./alert-budgets.js";

/** The alert names, which the Alertmanager webhook of `serve` maps to actions. */
export const alertNames = ["EdgeforgeLatencyP95High", "EdgeforgeLatencyP99High", "EdgeforgeErrorRateHigh", "EdgeforgeThroughputDrop", "EdgeforgeDriftDetected", "EdgeforgeModelNotReady"] as const;
export type AlertName = (typeof alertNames)[number];

export interface AlertingRule {
  alert: AlertName;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: { summary: string; description: string };
}

/** A Prometheus rule file (and the `spec` of a prometheus-operator PrometheusRule). */
export interface PrometheusRuleGroups {
  groups: Array<{ name: string; rules: AlertingRule[] }>;
}

/** Rate windows and hold times of the rules. */
export const alertTiming = { rateWindow: "5m", latencyFor: "5m", errorFor: "2m", throughputFor: "10m", throughputOffset: "1h", driftFor: "5m", notReadyFor: "1m" } as const;

const seconds = (ms: number): string => String(ms / 1000);
const percent = (share: number): string => String(Number((share * 100).toPrecision(6)));

/** What an alert's summary says, with the label placeholders Prometheus fills in (and `labels` for tests). */
export function alertSummary(name: AlertName, budgets: AlertBudgets, labels = { model: "{{ $labels.model }}", version: "{{ $labels.version }}" }): string {
  const who = `${labels.model}:${labels.version}`;
  switch (name) {
    case "EdgeforgeLatencyP95High":
      return `${who} p95 ${budgets.latency.name} above the ${budgets.p95Ms} ms budget`;
    case "EdgeforgeLatencyP99High":
      return `${who} p99 ${budgets.latency.name} above the ${budgets.p99Ms} ms budget`;
    case "EdgeforgeErrorRateHigh":
      return `${who} error rate above ${percent(budgets.errorRate)} %`;
    case "EdgeforgeThroughputDrop":
      return `${labels.model} request rate below ${percent(budgets.throughputDropShare)} % of an hour ago`;
    case "EdgeforgeDriftDetected":
      return `${who} input/prediction drift: at least half of the monitored features drifted`;
    case "EdgeforgeModelNotReady":
      return `${who} is not ready`;
  }
}

/**
 * Prometheus alerting rules for one served model over the server's own metric names, one group.
 * Every version of the model is watched with the same budgets; alerts carry `model`, `version` and
 * `severity` (EdgeforgeThroughputDrop watches the model's total traffic: `version="all"`).
 */
export function buildAlertRules(budgets: AlertBudgets): PrometheusRuleGroups {
  const m = `model="${budgets.model}"`;
  const w = alertTiming.rateWindow;
  const { metric, matchers, name, covers } = budgets.latency;
  const quantile = (q: number): string => `histogram_quantile(${q}, sum by (model, version, le) (rate(${metric}_bucket{${m}${matchers}}[${w}])))`;
  const total = `sum by (model) (rate(edgeforge_requests_total{${m}}[${w}]))`;
  const earlier = `sum by (model) (rate(edgeforge_requests_total{${m}}[${w}] offset ${alertTiming.throughputOffset}))`;
  const from = `Budget from ${budgets.source}.`;
  const rule = (alert: AlertName, expr: string, duration: string, severity: string, description: string, extraLabels: Record<string, string> = {}): AlertingRule => ({
    alert,
    expr,
    for: duration,
    labels: { severity, ...extraLabels },
    annotations: { summary: alertSummary(alert, budgets), description },
  });
  return {
    groups: [
      {
        name: `edgeforge-${budgets.model}`,
        rules: [
          rule("EdgeforgeLatencyP95High", `${quantile(0.95)} > ${seconds(budgets.p95Ms)}`, alertTiming.latencyFor, "warning", `p95 ${name} ${covers} over ${w} (${metric}). ${from}`),
          rule("EdgeforgeLatencyP99High", `${quantile(0.99)} > ${seconds(budgets.p99Ms)}`, alertTiming.latencyFor, "critical", `p99 ${name} ${covers} over ${w} (${metric}). ${from}`),
          rule(
            "EdgeforgeErrorRateHigh",
            `sum by (model, version) (rate(edgeforge_requests_total{${m},status=~"5.."}[${w}])) / sum by (model, version) (rate(edgeforge_requests_total{${m}}[${w}])) > ${budgets.errorRate}`,
            alertTiming.errorFor,
            "critical",
            `Share of requests answered 5xx over ${w} (edgeforge_requests_total). ${from}`,
          ),
          rule(
            "EdgeforgeThroughputDrop",
            `${total} < ${budgets.throughputDropShare} * ${earlier} and on (model) ${earlier} > ${budgets.minBaselineRps}`,
            alertTiming.throughputFor,
            "warning",
            `All versions' requests/s over ${w} against the same ${alertTiming.throughputOffset} earlier (only when that was above ${budgets.minBaselineRps} req/s).`,
            { version: "all" },
          ),
          rule("EdgeforgeDriftDetected", `max by (model, version) (edgeforge_drifted{${m}}) == 1`, alertTiming.driftFor, "warning", "edgeforge_drifted: at least 50 % of the monitored features drifted against the --reference dataset (docs/monitor.md)."),
          rule("EdgeforgeModelNotReady", `max by (model, version) (edgeforge_model_ready{${m}}) == 0`, alertTiming.notReadyFor, "critical", "edgeforge_model_ready is 0: the model is loading, restarting after a crash, failed to load or was unloaded."),
        ],
      },
    ],
  };
}
