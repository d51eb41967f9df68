import type { AlertBudgets } from "./alert-budgets.js";

interface Target {
  expr: string;
  legendFormat: string;
  refId: string;
}

/** A Grafana dashboard (JSON model, schemaVersion 39) over the server's metric names. */
export interface GrafanaDashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  tags: string[];
  time: { from: string; to: string };
  refresh: string;
  templating: { list: Array<Record<string, unknown>> };
  panels: Array<{ id: number; type: string; title: string; description?: string; gridPos: { x: number; y: number; w: number; h: number }; datasource: { type: "prometheus"; uid: string }; targets: Target[]; fieldConfig: Record<string, unknown>; options?: Record<string, unknown> }>;
}

const datasource = { type: "prometheus" as const, uid: "${datasource}" };
const selector = 'model="$model",version=~"$version"';
const rate = "$__rate_interval";

function thresholdSteps(value: number | undefined): Record<string, unknown> {
  const steps: Array<{ color: string; value: number | null }> = [{ color: "green", value: null }];
  if (value !== undefined) steps.push({ color: "red", value });
  return { mode: "absolute", steps };
}

/**
 * Latency against the certified budgets, traffic, errors, drift, readiness, queues, confidence and
 * memory for one model (variables `model` and `version`; budgets drawn as threshold lines).
 */
export function buildGrafanaDashboard(budgets: AlertBudgets): GrafanaDashboard {
  let id = 0;
  const targets = (...items: Array<[string, string]>): Target[] => items.map(([expr, legendFormat], i) => ({ expr, legendFormat, refId: String.fromCharCode(65 + i) }));
  const panel = (type: string, title: string, gridPos: { x: number; y: number; w: number; h: number }, items: Target[], unit: string, threshold?: number, description?: string) => ({
    id: ++id,
    type,
    title,
    ...(description ? { description } : {}),
    gridPos,
    datasource,
    targets: items,
    fieldConfig: { defaults: { unit, thresholds: thresholdSteps(threshold), custom: type === "timeseries" && threshold !== undefined ? { thresholdsStyle: { mode: "line" } } : {} }, overrides: [] },
  });
  const { metric, matchers, name } = budgets.latency;
  const quantile = (q: number, metric: string, extra = "") => `histogram_quantile(${q}, sum by (version, le) (rate(${metric}_bucket{${selector}${extra}}[${rate}])))`;
  return {
    uid: `edgeforge-${budgets.model}`.slice(0, 40),
    title: `edgeforge · ${budgets.model}`,
    schemaVersion: 39,
    tags: ["edgeforge"],
    time: { from: "now-1h", to: "now" },
    refresh: "10s",
    templating: {
      list: [
        { name: "datasource", type: "datasource", query: "prometheus", label: "Prometheus" },
        { name: "model", type: "query", datasource, query: "label_values(edgeforge_model_ready, model)", current: { text: budgets.model, value: budgets.model }, refresh: 1 },
        { name: "version", type: "query", datasource, query: 'label_values(edgeforge_model_ready{model="$model"}, version)', includeAll: true, multi: true, current: { text: "All", value: "$__all" }, refresh: 1 },
      ],
    },
    panels: [
      panel("timeseries", `p95 ${name} (budget ${budgets.p95Ms} ms)`, { x: 0, y: 0, w: 12, h: 8 }, targets([quantile(0.5, metric, matchers), "p50 {{version}}"], [quantile(0.95, metric, matchers), "p95 {{version}}"]), "s", budgets.p95Ms / 1000, `Budget from ${budgets.source}`),
      panel("timeseries", `p99 ${name} (budget ${budgets.p99Ms} ms)`, { x: 12, y: 0, w: 12, h: 8 }, targets([quantile(0.99, metric, matchers), "p99 {{version}}"]), "s", budgets.p99Ms / 1000, `Budget from ${budgets.source}`),
      panel("timeseries", "Requests by status", { x: 0, y: 8, w: 12, h: 8 }, targets([`sum by (version, status) (rate(edgeforge_requests_total{${selector}}[${rate}]))`, "{{version}} {{status}}"]), "reqps"),
      panel("timeseries", `Error rate (threshold ${budgets.errorRate})`, { x: 12, y: 8, w: 12, h: 8 }, targets([`sum by (version) (rate(edgeforge_requests_total{${selector},status=~"5.."}[${rate}])) / sum by (version) (rate(edgeforge_requests_total{${selector}}[${rate}]))`, "{{version}}"]), "percentunit", budgets.errorRate),
      panel("timeseries", "Drift score per feature", { x: 0, y: 16, w: 12, h: 8 }, targets([`edgeforge_drift_score{${selector}}`, "{{version}} {{feature}}"]), "none", undefined, "p-value for KS / chi-square (drift below 0.05); distance or PSI otherwise (drift at or above 0.1 / 0.25). docs/monitor.md"),
      panel("stat", "Drifted", { x: 12, y: 16, w: 6, h: 4 }, targets([`max by (version) (edgeforge_drifted{${selector}})`, "{{version}}"]), "none", 1),
      panel("stat", "Ready", { x: 18, y: 16, w: 6, h: 4 }, targets([`max by (version) (edgeforge_model_ready{${selector}})`, "{{version}}"]), "none"),
      panel("timeseries", "Queue depth and in flight", { x: 12, y: 20, w: 12, h: 4 }, targets([`sum by (version) (edgeforge_queue_depth{${selector}})`, "queued {{version}}"], [`sum by (version) (edgeforge_requests_in_flight{${selector}})`, "in flight {{version}}"]), "none"),
      panel("timeseries", "p95 inference vs queue wait", { x: 0, y: 24, w: 12, h: 8 }, targets([quantile(0.95, "edgeforge_inference_duration_seconds"), "inference {{version}}"], [quantile(0.95, "edgeforge_queue_wait_seconds"), "queue wait {{version}}"]), "s"),
      panel("timeseries", "Prediction confidence (p10 / p50)", { x: 12, y: 24, w: 12, h: 8 }, targets([quantile(0.1, "edgeforge_prediction_confidence"), "p10 {{version}}"], [quantile(0.5, "edgeforge_prediction_confidence"), "p50 {{version}}"]), "percentunit"),
      panel("timeseries", "Worker memory", { x: 0, y: 32, w: 12, h: 6 }, targets([`max by (version) (edgeforge_model_memory_bytes{${selector}})`, "rss {{version}}"]), "bytes"),
      panel("timeseries", "Worker restarts (last hour)", { x: 12, y: 32, w: 12, h: 6 }, targets([`sum by (version) (increase(edgeforge_worker_restarts_total{${selector}}[1h]))`, "{{version}}"]), "none"),
    ],
  };
}
