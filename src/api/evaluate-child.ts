/** Child-process entry for `evaluate` on GGUF models (see evaluate.ts): one evaluation, then exit. */
import { answerParent } from "../core/child-call.js";
import { evaluateHere, type EvaluateOptions } from "./evaluate.js";

answerParent<EvaluateOptions>((request, reporter) => evaluateHere({ ...request, ...reporter }));
