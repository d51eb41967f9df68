/** Child-process entry for LLM evaluation (see evaluate-llm-in-child.ts): one evaluation or comparison on llama.cpp, then exit. */
import { answerParent } from "../core/child-call.js";
import { compareLlms, evaluateLlm } from "../eval/llm/evaluate-llm.js";
import { openLlamaCppSession } from "../runtimes/llama-cpp/llama-cpp-runtime.js";
import type { LlmEvaluationRequest } from "./evaluate-llm-in-child.js";

answerParent<LlmEvaluationRequest>((request, reporter) =>
  request.kind === "compare"
    ? compareLlms({ ...request.options, ...reporter, openSession: openLlamaCppSession })
    : evaluateLlm({ ...request.options, ...reporter, openSession: openLlamaCppSession }),
);
