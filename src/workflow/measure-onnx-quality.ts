import type { ModelFormat } from "../core/artifact.js";
import type { Reporter } from "../core/logger.js";
import type { Session } from "../core/session.js";
import { openDataset } from "../datasets/open-dataset.js";
import { evaluateModel, hasClassLabels, retentionRatios, type EvalTask } from "../eval/evaluate-model.js";
import type { EvalRecord } from "../reports/eval-record.js";
import { openRuntimeSession, type RuntimeId } from "../runtimes/catalog.js";
import type { MeasureQuality } from "./evaluate-candidate.js";
import { runtimeSettingsOf } from "./measure-speed.js";
import type { PlannedCandidate } from "./plan-types.js";
import type { HashedArtifact } from "./produce-artifact.js";
import type { WorkflowConfig } from "./workflow-config.js";

export interface OnnxQualityPlan {
  task: Exclude<EvalTask, "custom" | "llm">;
  method: string;
  source: string;
  measure: MeasureQuality;
  /** Samples the input model was evaluated on (0 before it is). */
  samplesSeen(): number;
}

/** Which evaluation applies: CTC with a character list, classification on labelled data, else fidelity to the input model. */
async function chooseOnnxTask(config: WorkflowConfig, signal?: AbortSignal): Promise<OnnxQualityPlan["task"]> {
  const chosen = config.data.evaluator;
  if (chosen === "ctc" || chosen === "classification" || chosen === "fidelity") return chosen;
  if (config.data.labels) return "ctc";
  if (config.data.evaluation) {
    // As `eval` decides: class folders, or records whose label is a class index.
    const dataset = await openDataset(config.data.evaluation, signal ? { signal } : {});
    if (dataset.classNames !== undefined || (await hasClassLabels(dataset, signal))) return "classification";
  }
  return "fidelity";
}

/**
 * Accuracy of ONNX candidates with the evaluators, measured once per (artifact, runtime, provider,
 * graph level): thread counts do not change the arithmetic. Retention is the candidate's primary
 * metric over the input model's; for fidelity it is the output cosine similarity to the input model.
 */
export async function planOnnxQuality(config: WorkflowConfig, input: HashedArtifact, reporter: Reporter): Promise<OnnxQualityPlan> {
  const task = await chooseOnnxTask(config, reporter.signal);
  const samples = config.data.limit ?? (task === "fidelity" ? 16 : undefined);
  const options: Record<string, unknown> = { ...(config.data.labels ? { keys: config.data.labels } : {}), ...(samples ? { samples } : {}) };
  const source = config.data.evaluation ?? `${samples ?? 16} seeded generated inputs`;
  const records = new Map<string, Promise<EvalRecord>>();
  let baselineRecord: EvalRecord | undefined;

  const evaluateArtifact = (candidate: PlannedCandidate, artifact: HashedArtifact): Promise<EvalRecord> => {
    const key = [artifact.sha256, candidate.runtime.runtime, candidate.runtime.executionProvider, candidate.runtime.graphOptimizationLevel].join("|");
    let record = records.get(key);
    if (!record) {
      const settings = runtimeSettingsOf(candidate.runtime);
      const openSession = (path: string): Promise<Session> => openRuntimeSession(candidate.runtime.runtime as RuntimeId, path, "onnx" as ModelFormat, settings);
      record = evaluateModel({
        modelPath: artifact.path,
        ...(task === "fidelity" ? { baselinePath: input.path } : {}),
        ...(config.data.evaluation ? { dataPath: config.data.evaluation } : {}),
        ...(config.data.limit ? { datasetSpec: { limit: config.data.limit } } : {}),
        task,
        openSession,
        runtimeOf: () => candidate.runtime.runtime,
        shapes: config.measurement.shapes,
        seed: config.search.seed,
        options,
        ...(reporter.signal ? { signal: reporter.signal } : {}),
      });
      records.set(key, record);
    }
    return record;
  };

  const measure: MeasureQuality = async (candidate, artifact) => {
    const record = await evaluateArtifact(candidate, artifact);
    if (candidate.isBaseline) baselineRecord = record;
    const metrics = { ...record.metricValues };
    if (task === "fidelity") {
      metrics.accuracyRetention = record.accuracyRetention ?? metrics.cosineSimilarity;
    } else if (baselineRecord && !candidate.isBaseline) {
      const retention = retentionRatios(record.metrics, baselineRecord.metrics)[record.primaryMetric];
      if (retention !== undefined) metrics.accuracyRetention = retention;
    }
    return { metrics, method: describeMethod(task, record) };
  };
  return {
    task,
    // As measured once the input model was (fidelity's cosine depends on its outputs' size), before that as planned.
    get method() {
      return describeMethod(task, baselineRecord);
    },
    source,
    measure,
    samplesSeen: () => baselineRecord?.data?.samples ?? samples ?? 0,
  };
}

function describeMethod(task: OnnxQualityPlan["task"], record: EvalRecord | undefined): string {
  const samples = record?.data?.samples;
  const on = samples === undefined ? "" : ` on ${samples} samples`;
  switch (task) {
    case "ctc":
      return `greedy CTC decoding, exact match against the text labels${on}; accuracyRetention = candidate / input model exact-match rate`;
    case "classification":
      return `top-1 accuracy against the labels${on}; accuracyRetention = candidate / input model accuracy`;
    case "fidelity":
      return `output fidelity to the input model${on}; accuracyRetention = ${record?.metrics.find((m) => m.name === "cosineSimilarity")?.description ?? "mean cosine similarity of outputs"}`;
  }
}
