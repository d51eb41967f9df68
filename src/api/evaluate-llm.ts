import { compareLlms as runLlmComparison, evaluateLlm as runLlmEvaluation, type CompareLlmsOptions, type EvaluateLlmOptions, type LlmEvaluation } from "../eval/llm/evaluate-llm.js";
import { toLlmBenchTables } from "../eval/llm/llm-bench-rows.js";
import { renderLlmBenchTables, type LlmBenchFormat } from "../reports/llm-bench-table.js";
import { openLlamaCppSession } from "../runtimes/llama-cpp/llama-cpp-runtime.js";

export type EvaluateLlmModelOptions = Omit<EvaluateLlmOptions, "openSession">;
export type { LlmEvaluation };

/** Evaluate a GGUF language model on llama.cpp (node-llama-cpp, CPU): perplexity, KL vs a base, top-1 agreement, pp/tg tokens/s, load time, peak RSS. */
export async function evaluateLlm(options: EvaluateLlmModelOptions): Promise<LlmEvaluation> {
  return runLlmEvaluation({ ...options, openSession: openLlamaCppSession });
}

export type CompareLlmModelsOptions = Omit<CompareLlmsOptions, "openSession">;

/** A base model and several candidates over the same tokens in one process: base first, then each candidate with KL divergence and top-1 agreement against it. */
export async function compareLlms(options: CompareLlmModelsOptions): Promise<LlmEvaluation[]> {
  return runLlmComparison({ ...options, openSession: openLlamaCppSession });
}

/** Evaluations as llama-bench-style tables (md, csv or json). */
export function renderLlmEvaluations(evaluations: LlmEvaluation[], format: LlmBenchFormat): string {
  return renderLlmBenchTables(toLlmBenchTables(evaluations), format);
}
export { llmBenchFormats, type LlmBenchFormat } from "../reports/llm-bench-table.js";
