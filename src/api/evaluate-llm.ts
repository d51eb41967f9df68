import type { CompareLlmsOptions, EvaluateLlmOptions, LlmEvaluation } from "../eval/llm/evaluate-llm.js";
import { toLlmBenchTables } from "../eval/llm/llm-bench-rows.js";
import { renderLlmBenchTables, type LlmBenchFormat } from "../reports/llm-bench-table.js";
import { compareLlmsInChild, evaluateLlmInChild } from "../workflow/evaluate-llm-in-child.js";
import { refuseVocabularyOnly } from "./refuse-vocabulary-only.js";

export type EvaluateLlmModelOptions = Omit<EvaluateLlmOptions, "openSession">;
export type { LlmEvaluation };

/**
 * Evaluate a GGUF language model on llama.cpp (node-llama-cpp, CPU): perplexity, KL vs a base, top-1
 * agreement, pp/tg tokens/s, load time, peak RSS. llama.cpp runs in a child process, so a model it
 * aborts on comes back as a RUNTIME_FAILED error with llama.cpp's message instead of ending the caller.
 */
export async function evaluateLlm(options: EvaluateLlmModelOptions): Promise<LlmEvaluation> {
  await refuseVocabularyOnly([options.modelPath, ...(options.basePath ? [options.basePath] : [])], "evaluate", options.signal);
  return evaluateLlmInChild(options);
}

export type CompareLlmModelsOptions = Omit<CompareLlmsOptions, "openSession">;

/**
 * A base model and several candidates over the same tokens in one child process: base first, then each
 * candidate with KL divergence and top-1 agreement against it (an abort comes back as with evaluateLlm).
 */
export async function compareLlms(options: CompareLlmModelsOptions): Promise<LlmEvaluation[]> {
  await refuseVocabularyOnly([options.basePath, ...options.modelPaths], "evaluate", options.signal);
  return compareLlmsInChild(options);
}

/** Evaluations as llama-bench-style tables (md, csv or json). */
export function renderLlmEvaluations(evaluations: LlmEvaluation[], format: LlmBenchFormat): string {
  return renderLlmBenchTables(toLlmBenchTables(evaluations), format);
}
export { llmBenchFormats, type LlmBenchFormat } from "../reports/llm-bench-table.js";
