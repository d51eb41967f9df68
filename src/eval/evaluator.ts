import type { Reporter } from "../core/logger.js";
import type { OpenSession } from "../core/session.js";
import type { ShapeOverrides } from "../core/shapes.js";
import type { Dataset } from "../datasets/dataset.js";
import type { InputValues } from "../datasets/synthetic-inputs.js";
import type { EvalMetric } from "../reports/eval-record.js";
import type { OpenLlmSession } from "../core/llm-session.js";

export type { EvalMetric } from "../reports/eval-record.js";

/** What every evaluator receives. Sessions arrive through `openSession`, so evaluation never imports an engine. */
export interface EvaluationContext extends Reporter {
  modelPath: string;
  baselinePath?: string;
  /** A dataset opened from `dataPath`, for evaluators that read samples. */
  dataset?: Dataset & { classNames?: string[] };
  /** The raw --data path (e.g. a text file for LLM metrics). */
  dataPath?: string;
  openSession: OpenSession;
  /** Opens GGUF language models for the LLM metrics. */
  openLlmSession?: OpenLlmSession;
  /** For generated inputs and for inputs a dataset does not provide. */
  seed: number;
  shapes: ShapeOverrides;
  values?: InputValues;
  /** Evaluator-specific settings (keys file, output name, sample count…). */
  options: Record<string, unknown>;
}

export interface EvaluationResult {
  metrics: EvalMetric[];
  /** Set by evaluators that measure the baseline themselves (fidelity, LLM). */
  baselineMetrics?: EvalMetric[];
  sampleCount: number;
  /** Overrides the evaluator's primary metric (custom evaluators name their own). */
  primaryMetric?: string;
  details?: Record<string, unknown>;
}

/**
 * One interface for every task. `baseline` says how a baseline is used: "rerun" — the same
 * evaluation on the baseline gives retention ratios; "internal" — the evaluator compares the two
 * models itself; "none" — no baseline.
 */
export interface Evaluator {
  id: string;
  description: string;
  primaryMetric: string;
  baseline: "rerun" | "internal" | "none";
  needsDataset: boolean;
  evaluate(context: EvaluationContext): Promise<EvaluationResult>;
}
