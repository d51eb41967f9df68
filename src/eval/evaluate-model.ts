import type { ModelFormat } from "../core/artifact.js";
import { EdgeforgeError } from "../core/errors.js";
import { hashFileSha256 } from "../core/hashing.js";
import type { Reporter } from "../core/logger.js";
import type { OpenSession } from "../core/session.js";
import type { ShapeOverrides } from "../core/shapes.js";
import type { Dataset } from "../datasets/dataset.js";
import type { DatasetSpecInput } from "../datasets/dataset-spec.js";
import { openDataset } from "../datasets/open-dataset.js";
import type { InputValues } from "../datasets/synthetic-inputs.js";
import { detectModelFormat } from "../formats/detect-format.js";
import type { MetricValues } from "../pareto/metric-catalog.js";
import { evalSchemaVersion, type EvalMetric, type EvalRecord } from "../reports/eval-record.js";
import { classificationEvaluator } from "./classification-evaluator.js";
import { ctcEvaluator } from "./ctc-evaluator.js";
import { createCustomEvaluator } from "./custom-evaluator.js";
import type { EvaluationContext, EvaluationResult, Evaluator } from "./evaluator.js";
import { fidelityEvaluator } from "./fidelity-evaluator.js";
import type { OpenLlmSession } from "../core/llm-session.js";
import { llmEvaluator } from "./llm-evaluator.js";

export const evalTasks = ["classification", "fidelity", "ctc", "custom", "llm"] as const;
export type EvalTask = (typeof evalTasks)[number];

export interface EvaluateModelOptions extends Reporter {
  modelPath: string;
  baselinePath?: string;
  /** A dataset (folder or JSON file), or the text file for LLM metrics. */
  dataPath?: string;
  /** Default: chosen from the inputs (see chooseTask). */
  task?: EvalTask;
  /** A JS module exporting the evaluator function (task "custom"). */
  evaluatorPath?: string;
  openSession: OpenSession;
  openLlmSession?: OpenLlmSession;
  /** Runtime names for the record. */
  runtimeOf: (format: ModelFormat) => string;
  datasetSpec?: DatasetSpecInput;
  datasetSpecPath?: string;
  shapes?: ShapeOverrides;
  values?: InputValues;
  seed?: number;
  /** Evaluator settings: keys, useSpace, outputName, samples, threads, contextSize, maxChunks… */
  options?: Record<string, unknown>;
}

const catalogNames: Record<string, keyof MetricValues> = {
  top1Accuracy: "accuracy",
  exactMatch: "accuracy",
  cosineSimilarity: "cosineSimilarity",
  top1Agreement: "top1Agreement",
  perplexity: "perplexity",
  klDivergence: "klDivergence",
  promptTokensPerSec: "promptTokensPerSec",
  tokensPerSec: "tokensPerSec",
};

/** Pick the task when none is given: an evaluator module → custom; GGUF → llm; --keys → ctc; class labels → classification; a baseline → fidelity. */
export function chooseTask(options: { task?: EvalTask; evaluatorPath?: string; format: ModelFormat; keys?: unknown; labelled: boolean; baselinePath?: string }): EvalTask {
  if (options.task) return options.task;
  if (options.evaluatorPath) return "custom";
  if (options.format === "gguf") return "llm";
  if (options.keys !== undefined) return "ctc";
  if (options.labelled) return "classification";
  if (options.baselinePath) return "fidelity";
  throw new EdgeforgeError("INVALID_OPTION", "cannot tell which evaluation to run", {
    hint: "pass --task classification|fidelity|ctc|custom|llm (classification needs labelled --data; fidelity needs --baseline)",
  });
}

function evaluatorFor(task: EvalTask, evaluatorPath: string | undefined): Evaluator {
  switch (task) {
    case "classification":
      return classificationEvaluator;
    case "fidelity":
      return fidelityEvaluator;
    case "ctc":
      return ctcEvaluator;
    case "llm":
      return llmEvaluator;
    case "custom":
      if (!evaluatorPath) throw new EdgeforgeError("INVALID_OPTION", "task custom needs an evaluator module", { hint: "pass --evaluator FILE.mjs" });
      return createCustomEvaluator(evaluatorPath);
  }
}

/** Ratio to the baseline per metric: model/baseline when higher is better, baseline/model when lower is. */
export function retentionRatios(metrics: readonly EvalMetric[], baseline: readonly EvalMetric[]): Record<string, number> {
  const ratios: Record<string, number> = {};
  for (const metric of metrics) {
    const base = baseline.find((m) => m.name === metric.name);
    if (!base) continue;
    const ratio = metric.direction === "higher" ? metric.value / base.value : base.value / metric.value;
    if (Number.isFinite(ratio)) ratios[metric.name] = ratio;
  }
  return ratios;
}

/** Whether the dataset's first sample carries an integer label (a class index). */
/** The dataset's first sample carries a class index (labelled .json/.jsonl records, class folders). */
export async function hasClassLabels(dataset: Dataset, signal?: AbortSignal): Promise<boolean> {
  for await (const sample of dataset.samples(signal)) return typeof sample.label === "number";
  return false;
}

async function describeModel(path: string, runtimeOf: (format: ModelFormat) => string): Promise<EvalRecord["model"]> {
  const { format } = await detectModelFormat(path);
  return { path, format, sha256: await hashFileSha256(path), runtime: runtimeOf(format) };
}

/**
 * Evaluate a model with one of the evaluators and, with a baseline, express the result as
 * retention ratios (the figure quality gates use).
 */
export async function evaluateModel(options: EvaluateModelOptions): Promise<EvalRecord> {
  const started = process.hrtime.bigint();
  const model = await describeModel(options.modelPath, options.runtimeOf);
  const baseline = options.baselinePath ? await describeModel(options.baselinePath, options.runtimeOf) : undefined;
  const extra = options.options ?? {};
  const textData = model.format === "gguf" || options.task === "llm";
  const dataset =
    options.dataPath !== undefined && !textData
      ? await openDataset(options.dataPath, {
          ...(options.datasetSpec ? { spec: options.datasetSpec } : {}),
          ...(options.datasetSpecPath ? { specPath: options.datasetSpecPath } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        })
      : undefined;
  const decided = options.task !== undefined || options.evaluatorPath !== undefined || model.format === "gguf" || extra.keys !== undefined;
  const task = chooseTask({
    ...(options.task ? { task: options.task } : {}),
    ...(options.evaluatorPath ? { evaluatorPath: options.evaluatorPath } : {}),
    format: model.format as ModelFormat,
    keys: extra.keys,
    labelled: !decided && dataset !== undefined && (dataset.classNames !== undefined || (await hasClassLabels(dataset, options.signal))),
    ...(options.baselinePath ? { baselinePath: options.baselinePath } : {}),
  });
  const evaluator = evaluatorFor(task, options.evaluatorPath);
  if (evaluator.needsDataset && !dataset) {
    throw new EdgeforgeError("INVALID_OPTION", `task ${task} needs a dataset`, { hint: "pass --data FOLDER|FILE" });
  }
  const context = (modelPath: string): EvaluationContext => ({
    modelPath,
    ...(options.baselinePath ? { baselinePath: options.baselinePath } : {}),
    ...(dataset ? { dataset } : {}),
    ...(options.dataPath ? { dataPath: options.dataPath } : {}),
    openSession: options.openSession,
    ...(options.openLlmSession ? { openLlmSession: options.openLlmSession } : {}),
    seed: options.seed ?? 1,
    shapes: options.shapes ?? {},
    ...(options.values ? { values: options.values } : {}),
    options: extra,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.progress ? { progress: options.progress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  options.logger?.info(`evaluating ${options.modelPath} (${task})`);
  const result: EvaluationResult = await evaluator.evaluate(context(options.modelPath));
  let baselineMetrics = result.baselineMetrics;
  if (evaluator.baseline === "rerun" && options.baselinePath) {
    options.logger?.info(`evaluating the baseline ${options.baselinePath}`);
    baselineMetrics = (await evaluator.evaluate(context(options.baselinePath))).metrics;
  }
  const primaryMetric = result.primaryMetric ?? evaluator.primaryMetric;
  const retention = baselineMetrics ? retentionRatios(result.metrics, baselineMetrics) : undefined;
  const accuracyRetention = retention?.[primaryMetric];
  const metricValues: MetricValues = {};
  for (const metric of result.metrics) {
    const name = catalogNames[metric.name];
    if (name) metricValues[name] = metric.value;
  }
  if (accuracyRetention !== undefined) metricValues.accuracyRetention = accuracyRetention;
  return {
    schemaVersion: evalSchemaVersion,
    kind: "edgeforge.eval",
    createdAt: new Date().toISOString(),
    task,
    model,
    ...(baseline ? { baseline } : {}),
    ...(options.dataPath ? { data: { source: options.dataPath, samples: result.sampleCount } } : {}),
    metrics: result.metrics,
    ...(baselineMetrics ? { baselineMetrics } : {}),
    ...(retention ? { retention } : {}),
    ...(accuracyRetention !== undefined ? { accuracyRetention } : {}),
    primaryMetric,
    metricValues,
    details: result.details ?? {},
    durationMs: Number(process.hrtime.bigint() - started) / 1e6,
  };
}
