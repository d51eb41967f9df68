import type { ModelFormat } from "../core/artifact.js";
import { callInChild, childEntry } from "../core/child-call.js";
import { refuseVocabularyOnly } from "./refuse-vocabulary-only.js";
import type { Session } from "../core/session.js";
import type { LlmSession } from "../core/llm-session.js";
import { evaluateModel, evalTasks, type EvalTask, type EvaluateModelOptions } from "../eval/evaluate-model.js";
import { detectModelFormat } from "../formats/detect-format.js";
import { evalSchemaVersion, type EvalMetric, type EvalRecord } from "../reports/eval-record.js";
import { EdgeforgeError } from "../core/errors.js";
import { hashPathSha256 } from "../core/hashing.js";
import { measureMlxQuality } from "../workflow/measure-mlx-quality.js";
import { numberOption } from "../eval/llm-evaluator.js";
import { renderEvalMarkdown } from "../reports/eval-table.js";
import { openRuntimeSession, requireRuntimeId, runtimeCatalog, runtimeForFormat } from "../runtimes/catalog.js";
import { checkRuntimeSettings, type RuntimeSettings } from "../runtimes/runtime-settings.js";

export type { EvalRecord, EvalMetric } from "../reports/eval-record.js";
export type { CustomEvaluatorContext } from "../eval/custom-evaluator.js";
export { evalTasks, renderEvalMarkdown, type EvalTask };

export interface EvaluateOptions extends Omit<EvaluateModelOptions, "openSession" | "openLlmSession" | "runtimeOf"> {
  /** "ort", "llama-cpp" or "openvino"; default: by each model's format. */
  runtime?: string;
  settings?: RuntimeSettings;
}

/**
 * Evaluate a model: classification accuracy, fidelity to a baseline, CTC sequence accuracy, a user
 * evaluator, or (GGUF) the LLM metrics; with a baseline, retention ratios. A GGUF is evaluated in a
 * child process: llama.cpp aborts the process on some malformed models (GGML_ASSERT), and that
 * must come back as a typed RUNTIME_FAILED error with llama.cpp's message, not end the caller.
 */
export async function evaluate(options: EvaluateOptions): Promise<EvalRecord> {
  const paths = [options.modelPath, ...(options.baselinePath ? [options.baselinePath] : [])];
  const formats = await Promise.all(paths.map(async (path) => (await detectModelFormat(path)).format));
  // A checkpoint no runtime runs (a Hugging Face folder) is refused before any reading, with the command that converts it.
  if (options.runtime === undefined) for (const format of formats) runtimeForFormat(format);
  if (formats[0] === "mlx") return evaluateMlxFolder(options, formats[1]);
  if (!formats.includes("gguf")) return evaluateHere(options);
  await refuseVocabularyOnly(paths, "evaluate", options.signal);
  const { logger, progress, signal, ...request } = options;
  return callInChild<EvalRecord>(childEntry(import.meta.url, "evaluate-child"), request, {
    what: "the llama.cpp evaluation",
    ...(logger ? { logger } : {}),
    ...(progress ? { progress } : {}),
    ...(signal ? { signal } : {}),
  });
}

/**
 * Evaluate a model in this process: classification accuracy, fidelity to a baseline, CTC sequence
 * accuracy, a user evaluator, or (GGUF) the LLM metrics; with a baseline, retention ratios.
 */
export async function evaluateHere(options: EvaluateOptions): Promise<EvalRecord> {
  const { runtime, settings = {}, ...rest } = options;
  checkRuntimeSettings(settings);
  const chosen = runtime === undefined ? undefined : requireRuntimeId(runtime);
  const runtimeOf = (format: ModelFormat): string => chosen ?? runtimeForFormat(format);
  const openSession = async (path: string): Promise<Session> => {
    const { format } = await detectModelFormat(path);
    return openRuntimeSession(chosen ?? runtimeForFormat(format), path, format, settings);
  };
  const openLlmSession = async (path: string, llmSettings: { threads?: number; contextSize?: number; batchSize?: number }): Promise<LlmSession> => {
    const { openLlamaCppSession } = await runtimeCatalog["llama-cpp"].load();
    return openLlamaCppSession(path, llmSettings);
  };
  return evaluateModel({ ...rest, openSession, openLlmSession, runtimeOf });
}

/**
 * An MLX folder's LLM metrics against the GGUF it was exported from, as optimize and certify measure MLX candidates:
 * perplexity in MLX (node-mlx), KL divergence and top-1 agreement against the GGUF in llama.cpp on the same tokens.
 */
async function evaluateMlxFolder(options: EvaluateOptions, baselineFormat: ModelFormat | undefined): Promise<EvalRecord> {
  if (options.baselinePath === undefined || baselineFormat !== "gguf") {
    throw new EdgeforgeError("INVALID_OPTION", `${options.modelPath} is an MLX folder: it is evaluated against the GGUF it was exported from`, {
      hint: "pass --base MODEL.gguf (its tokenizer and reference logits) and --text FILE",
    });
  }
  if (options.dataPath === undefined) throw new EdgeforgeError("INVALID_OPTION", "LLM evaluation needs held-out text", { hint: "pass --text FILE" });
  const started = process.hrtime.bigint();
  const extra = options.options ?? {};
  const settings: { threads?: number; contextSize?: number; maxChunks?: number } = {};
  for (const key of ["threads", "contextSize", "maxChunks"] as const) {
    const value = numberOption(extra, key);
    if (value !== undefined) settings[key] = value;
  }
  const reporter = { ...(options.logger ? { logger: options.logger } : {}), ...(options.signal ? { signal: options.signal } : {}) };
  const quality = await measureMlxQuality(options.modelPath, options.baselinePath, options.dataPath, settings, reporter);
  const { perplexity, klDivergence, top1Agreement, accuracyRetention } = quality.metrics;
  const metrics: EvalMetric[] = [
    ...(perplexity === undefined ? [] : [{ name: "perplexity", value: perplexity, unit: "", direction: "lower" as const }]),
    ...(klDivergence === undefined ? [] : [{ name: "klDivergence", value: klDivergence, unit: "nats", direction: "lower" as const, description: "mean per token against the base GGUF" }]),
    ...(top1Agreement === undefined ? [] : [{ name: "top1Agreement", value: top1Agreement, unit: "ratio", direction: "higher" as const }]),
  ];
  return {
    schemaVersion: evalSchemaVersion,
    kind: "edgeforge.eval",
    createdAt: new Date().toISOString(),
    task: "llm",
    model: { path: options.modelPath, format: "mlx", sha256: await hashPathSha256(options.modelPath, options.signal), runtime: "mlx" },
    baseline: { path: options.baselinePath, format: "gguf", sha256: await hashPathSha256(options.baselinePath, options.signal), runtime: "llama-cpp" },
    data: { source: options.dataPath, samples: quality.chunkCount ?? 0 },
    metrics,
    ...(accuracyRetention === undefined ? {} : { accuracyRetention }),
    primaryMetric: "perplexity",
    metricValues: quality.metrics,
    details: { method: quality.method },
    durationMs: Number(process.hrtime.bigint() - started) / 1e6,
  };
}
