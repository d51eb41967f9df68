import type { MetricValues } from "../pareto/metric-catalog.js";

/** One figure an evaluator measured: a name, a unit and which way is better. */
export interface EvalMetric {
  name: string;
  value: number;
  unit: string;
  direction: "higher" | "lower";
  description?: string;
}

export const evalSchemaVersion = 1;

/** The one typed record of an `edgeforge eval` run; rendered as JSON (canonical) or Markdown. */
export interface EvalRecord {
  schemaVersion: typeof evalSchemaVersion;
  kind: "edgeforge.eval";
  createdAt: string;
  task: string;
  model: { path: string; format: string; sha256: string; runtime: string };
  baseline?: { path: string; format: string; sha256: string; runtime: string };
  data?: { source: string; samples: number };
  metrics: EvalMetric[];
  /** The same evaluator on the baseline, when the task compares against one. */
  baselineMetrics?: EvalMetric[];
  /** Per metric: model / baseline for higher-is-better metrics, baseline / model for lower-is-better ones. */
  retention?: Record<string, number>;
  /** Retention of the task's primary metric: what quality gates use. */
  accuracyRetention?: number;
  primaryMetric: string;
  /** Figures under the metric catalog's names, for frontiers and gates. */
  metricValues: MetricValues;
  details: Record<string, unknown>;
  durationMs: number;
}
