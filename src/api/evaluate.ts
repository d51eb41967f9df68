import type { ModelFormat } from "../core/artifact.js";
import type { Session } from "../core/session.js";
import type { LlmSession } from "../eval/llm/llm-session.js";
import { evaluateModel, evalTasks, type EvalTask, type EvaluateModelOptions } from "../eval/evaluate-model.js";
import { detectModelFormat } from "../formats/detect-format.js";
import type { EvalRecord } from "../reports/eval-record.js";
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
 * Evaluate a model in this process: classification accuracy, fidelity to a baseline, CTC sequence
 * accuracy, a user evaluator, or (GGUF) the LLM metrics; with a baseline, retention ratios.
 */
export async function evaluate(options: EvaluateOptions): Promise<EvalRecord> {
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
