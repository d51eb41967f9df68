import type { ModelFormat } from "../../core/artifact.js";
import type { Reporter } from "../../core/logger.js";
import type { Session } from "../../core/session.js";
import type { ShapeOverrides } from "../../core/shapes.js";
import { measureSideBySide, type SideBySideArm } from "../../bench/measure-side-by-side.js";
import { evaluateModel } from "../../eval/evaluate-model.js";
import { judgeCandidate } from "../../gates/evaluate-gates.js";
import type { Gate } from "../../gates/gate.js";
import { isMetricName, type MetricValues } from "../../pareto/metric-catalog.js";
import type { CandidateReport, GateResultReport, Report } from "../../reports/report.js";
import { openRuntimeSession, type RuntimeId } from "../../runtimes/catalog.js";
import type { CertifyRequirements } from "./certify-requirements.js";
import { measureLlmQuality } from "../measure-llm-quality.js";
import { compareModelMemory } from "../compare-memory.js";
import { measureMlxQuality } from "../measure-mlx-quality.js";
import { runtimeSettingsOfCandidate } from "../measure-speed.js";
import { pathExists } from "../../core/path-exists.js";

export interface MeasuredSection {
  /** "re-measured" on this machine side by side with the baseline, or "from the report" (same hardware). */
  source: "re-measured" | "from the report";
  method: string;
  metrics: Record<string, number>;
  baselineMetrics: Record<string, number>;
  /** Interval of the speed-up, when re-measured. */
  speedupInterval?: { low: number; high: number; level: number; pairs: number };
}

export interface GateSection {
  results: GateResultReport[];
  passed: boolean;
}

function metricValuesOf(metrics: Record<string, number>): MetricValues {
  return Object.fromEntries(Object.entries(metrics).filter(([name]) => isMetricName(name))) as MetricValues;
}

/** The report's gates judged on the given figures (the same judge optimize uses). */
export function judgeReportGates(report: Report, metrics: Record<string, number>, baseline: Record<string, number>): GateSection {
  const gates: Gate[] = report.gates.definitions.map((d) => ({ name: d.name, metric: d.metric, goal: d.goal, value: d.value, priority: d.priority, ...(d.op ? { op: d.op } : {}) }));
  const verdict = judgeCandidate("certify", gates, metricValuesOf(metrics), metricValuesOf(baseline));
  return { results: verdict.results as GateResultReport[], passed: verdict.passed };
}


/**
 * The model the report's speed-ups and KL divergence are against: its input, or for a Hugging Face folder the
 * GGUF its baseline ran (the folder converted, unquantized); undefined when the report records none.
 */
export function referenceModelPath(report: Report): string | undefined {
  if (report.input.format !== "safetensors") return report.input.path;
  const baseline = report.candidates.find((c) => c.isBaseline);
  return baseline?.artifact?.format === "gguf" ? baseline.artifact.path : undefined;
}

/** What is re-measured: the artifact, the optimize report it was chosen in, and its candidate there. */
export interface RemeasureSubject {
  artifactPath: string;
  report: Report;
  candidate: CandidateReport;
  /** referenceModelPath of the report: what the artifact is compared with. */
  referencePath: string;
}

/** How both re-measurements run: the artifact's format, input shapes, the requirements, the seed, and the reporter. */
export type RemeasureOptions = { format: ModelFormat; shapes: ShapeOverrides; requirements: CertifyRequirements; seed: number } & Reporter;

/**
 * Latency, throughput and memory of the artifact against the report's input model at the same
 * runtime settings, in alternating blocks in one time window (measureSideBySide).
 */
export async function remeasurePerformance({ artifactPath, report, candidate, referencePath }: RemeasureSubject, options: RemeasureOptions): Promise<MeasuredSection> {
  const settings = runtimeSettingsOfCandidate(candidate);
  const arm = (label: string, path: string): SideBySideArm => ({ label, artifactPath: path, format: options.format, runtime: candidate.runtime.runtime as RuntimeId, settings });
  // An MLX folder runs on node-mlx; the GGUF it was exported from runs on llama.cpp at the report's baseline settings.
  const mlx = options.format === "mlx";
  const baselineCandidate = report.candidates.find((c) => c.isBaseline);
  const baselineArm: SideBySideArm = mlx
    ? { label: "input model (llama.cpp)", artifactPath: referencePath, format: "gguf", runtime: (baselineCandidate?.runtime.runtime ?? "llama-cpp") as RuntimeId, settings: baselineCandidate ? runtimeSettingsOfCandidate(baselineCandidate) : settings }
    : arm("input model", referencePath);
  const result = await measureSideBySide({
    baseline: baselineArm,
    candidate: arm("artifact", artifactPath),
    shapes: options.shapes,
    seed: options.seed,
    minRounds: options.requirements.performance.minRounds,
    maxRounds: options.requirements.performance.maxRounds,
    blockMs: options.requirements.performance.blockMs,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const [base, cand] = result.arms as [(typeof result.arms)[0], (typeof result.arms)[0]];
  const figures = (a: typeof base): Record<string, number> => ({
    p50LatencyMs: a.latency.p50Ms,
    p95LatencyMs: a.latency.p95Ms,
    p99LatencyMs: a.latency.p99Ms,
    ...(a.rateUnit === "tokens" ? { promptTokensPerSec: a.ratePerSec } : { throughputPerSec: a.ratePerSec }),
    ...(a.generationTokensPerSec === undefined ? {} : { tokensPerSec: a.generationTokensPerSec }),
    peakRssBytes: a.memory.peakRssBytes,
    ...(a.memory.modelBytes === undefined ? {} : { rssIncreaseBytes: a.memory.modelBytes }),
    loadMs: a.loadMs,
  });
  const metrics = figures(cand);
  // The speed-up on the report's basis: an LLM's (GGUF, MLX) generation tokens/s, as optimize decides on it; an ONNX model's p50 latency.
  const llm = options.format === "gguf" || mlx;
  const generation = llm ? result.comparison.generationRatio : undefined;
  const interval = generation ?? (llm ? result.comparison.rateRatio : result.comparison.latencyRatio);
  const subject = mlx ? "MLX folder (node-mlx)" : "artifact";
  const basis = generation
    ? `generation tokens/s of the ${subject} over the input GGUF's (llama.cpp), tokens decoded one at a time through the KV cache`
    : llm
      ? `prompt tokens/s of the ${subject} over the input GGUF's (llama.cpp)`
      : "p50 latency of the input model over the artifact's";
  metrics.speedup = interval.ratio;
  // one basis for both sides (an MLX folder has only RSS; llama.cpp reports its allocation), as optimize compares them
  const memory = compareModelMemory(cand.memory, base.memory);
  if (memory) metrics.memoryReduction = 1 - memory.candidateBytes / memory.baselineBytes;
  return {
    source: "re-measured",
    method: `${result.method}; speed-up = ${basis}${memory ? `; memoryReduction basis: ${memory.basis}` : ""}`,
    metrics,
    baselineMetrics: figures(base),
    speedupInterval: { low: interval.low, high: interval.high, level: interval.level, pairs: interval.pairs },
  };
}

/** Accuracy of the artifact against the report's input model on this machine: fidelity (ONNX) or perplexity/KL/top-1 (GGUF, MLX). */
export async function remeasureAccuracy({ artifactPath, report, candidate, referencePath }: RemeasureSubject, options: RemeasureOptions): Promise<MeasuredSection> {
  const settings = runtimeSettingsOfCandidate(candidate);
  if (options.format === "mlx") {
    const text = options.requirements.evaluation.text as string;
    const quality = await measureMlxQuality(artifactPath, referencePath, text, { ...(settings.threads ? { threads: settings.threads } : {}), ...(settings.contextSize ? { contextSize: settings.contextSize } : {}), maxChunks: options.requirements.evaluation.maxChunks }, options);
    return { source: "re-measured", method: quality.method, metrics: quality.metrics as Record<string, number>, baselineMetrics: { accuracyRetention: 1 } };
  }
  if (options.format === "gguf") {
    const text = options.requirements.evaluation.text as string;
    const quality = await measureLlmQuality(artifactPath, referencePath, text, { ...(settings.threads ? { threads: settings.threads } : {}), ...(settings.contextSize ? { contextSize: settings.contextSize } : {}), maxChunks: options.requirements.evaluation.maxChunks }, options);
    return { source: "re-measured", method: quality.method, metrics: quality.metrics as Record<string, number>, baselineMetrics: { accuracyRetention: 1 } };
  }
  const common = {
    modelPath: artifactPath,
    baselinePath: referencePath,
    openSession: (path: string): Promise<Session> => openRuntimeSession(candidate.runtime.runtime as RuntimeId, path, options.format, settings),
    runtimeOf: () => candidate.runtime.runtime,
    shapes: options.shapes,
    seed: options.seed,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const data = await reportEvaluationData(report);
  if (data.usable) {
    // The task the optimize run graded on, on its data, with its labels: the artifact and the input model both run here.
    const record = await evaluateModel({ ...common, task: data.task, dataPath: data.source, ...(data.limit ? { datasetSpec: { limit: data.limit } } : {}), options: data.labels ? { keys: data.labels } : {} });
    const metrics: Record<string, number> = { ...record.metricValues, accuracyRetention: record.accuracyRetention ?? 0 };
    const task = data.task === "ctc" ? "greedy CTC exact match against the text labels" : "top-1 accuracy against the labels";
    return { source: "re-measured", method: `${task} on the optimize run's evaluation data (${record.data?.samples ?? 0} samples from ${data.source}), the artifact and ${referencePath} both run here; accuracyRetention = artifact / input model`, metrics, baselineMetrics: { accuracyRetention: 1 } };
  }
  const record = await evaluateModel({ ...common, task: "fidelity", options: { samples: options.requirements.evaluation.samples } });
  const metrics: Record<string, number> = { ...record.metricValues };
  metrics.accuracyRetention = record.accuracyRetention ?? metrics.cosineSimilarity ?? 0;
  const why = data.reason ? ` (${data.reason})` : "";
  return { source: "re-measured", method: `fidelity to ${referencePath} on ${options.requirements.evaluation.samples} seeded generated inputs (output cosine similarity as accuracyRetention)${why}`, metrics, baselineMetrics: { accuracyRetention: 1 } };
}

type ReportEvaluationData =
  | { usable: true; task: "ctc" | "classification"; source: string; labels?: string; limit?: number }
  | { usable: false; reason?: string };

/** The optimize run's labelled evaluation data, when its report names it and it is on this machine. */
export async function reportEvaluationData(report: Report): Promise<ReportEvaluationData> {
  const evaluation = report.evaluation;
  if (!evaluation || (evaluation.task !== "ctc" && evaluation.task !== "classification")) return { usable: false };
  const missing = [evaluation.source, evaluation.labels].filter((path): path is string => path !== undefined);
  for (const path of missing) {
    if (!(await pathExists(path))) return { usable: false, reason: `the optimize run's evaluation ${path === evaluation.labels ? "labels" : "data"} ${path} is not on this machine` };
  }
  return { usable: true, task: evaluation.task, source: evaluation.source, ...(evaluation.labels ? { labels: evaluation.labels } : {}), ...(evaluation.limit ? { limit: evaluation.limit } : {}) };
}


