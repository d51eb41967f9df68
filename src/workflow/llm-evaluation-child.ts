/** Child-process entry for LLM evaluation (see evaluate-llm-in-child.ts): one evaluation or comparison on llama.cpp (or an MLX folder against its GGUF), then exit. */
import { answerParent } from "../core/child-call.js";
import { compareLlms, evaluateLlm } from "../eval/llm/evaluate-llm.js";
import { openLlamaCppSession } from "../runtimes/llama-cpp/llama-cpp-runtime.js";
import type { LlmEvaluationRequest } from "./evaluate-llm-in-child.js";
import { measureMlxQualityHere } from "./measure-mlx-quality.js";

answerParent<LlmEvaluationRequest>((request, reporter) => {
  if (request.kind === "compare") return compareLlms({ ...request.options, ...reporter, openSession: openLlamaCppSession });
  if (request.kind === "mlx-quality") return measureMlxQualityHere(request.options, reporter);
  return evaluateLlm({ ...request.options, ...reporter, openSession: openLlamaCppSession });
});
