import { callInChild, childEntry } from "../core/child-call.js";
import type { Reporter } from "../core/logger.js";
import type { CompareLlmsOptions, EvaluateLlmOptions, LlmEvaluation } from "../eval/llm/evaluate-llm.js";

type Plain<T> = Omit<T, "openSession" | keyof Reporter>;

/** An MLX folder scored against the GGUF it was exported from (see measure-mlx-quality.ts). */
export interface MlxQualityRequest {
  folder: string;
  basePath: string;
  textPath: string;
  threads?: number;
  contextSize?: number;
  maxChunks?: number;
}

/** What crosses to the child: the options without the session opener and the reporter (they stay here). */
export type LlmEvaluationRequest =
  | { kind: "evaluate"; options: Plain<EvaluateLlmOptions> }
  | { kind: "compare"; options: Plain<CompareLlmsOptions> }
  | { kind: "mlx-quality"; options: MlxQualityRequest };

/** Run one LLM evaluation request in the evaluation child (llm-evaluation-child.ts). */
export function runLlmEvaluationInChild<T>(request: LlmEvaluationRequest, reporter: Reporter): Promise<T> {
  return callInChild<T>(childEntry(import.meta.url, "llm-evaluation-child"), request, { what: "the llama.cpp evaluation", ...reporter });
}

function split<T extends Reporter>(options: T): [Omit<T, keyof Reporter>, Reporter] {
  const { logger, progress, signal, ...rest } = options;
  return [rest, { ...(logger ? { logger } : {}), ...(progress ? { progress } : {}), ...(signal ? { signal } : {}) }];
}

/**
 * `evaluateLlm` on llama.cpp in a child process: llama.cpp aborts the process on some malformed models
 * (GGML_ASSERT), and that must come back as a typed RUNTIME_FAILED error with llama.cpp's message, not end
 * the caller. Logger, progress and the abort signal work across the boundary.
 */
export function evaluateLlmInChild(options: Omit<EvaluateLlmOptions, "openSession">): Promise<LlmEvaluation> {
  const [rest, reporter] = split(options);
  return runLlmEvaluationInChild<LlmEvaluation>({ kind: "evaluate", options: rest }, reporter);
}

/** `compareLlms` on llama.cpp in a child process (one child for the base and all candidates), for the same reason. */
export function compareLlmsInChild(options: Omit<CompareLlmsOptions, "openSession">): Promise<LlmEvaluation[]> {
  const [rest, reporter] = split(options);
  return runLlmEvaluationInChild<LlmEvaluation[]>({ kind: "compare", options: rest }, reporter);
}
