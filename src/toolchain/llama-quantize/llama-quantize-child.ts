/**
 * Child-process entry for llama_model_quantize (see spawn-llama-quantize.ts and core/child-call.ts):
 * a native abort (GGML_ABORT, a bad file deep in the loader) kills only this process. llama.cpp's
 * log lines go to the parent's logger (warnings as warnings, the rest as debug); its per-tensor lines
 * ("[ 3/39] blk.0.attn_q.weight …") drive the parent's progress.
 */
import { answerParent } from "../../core/child-call.js";
import { EdgeforgeError } from "../../core/errors.js";
import { loadLlamaQuantizeBinding, type NativeQuantizeRequest } from "./llama-quantize-native.js";

export interface QuantizeChildResult {
  libllama: string;
  release: string | undefined;
  /** Every line llama.cpp logged, for provenance and debugging. */
  logLines: string[];
}

const progressLine = /^\[\s*(\d+)\s*\/\s*(\d+)\]\s+(\S+)/;
/** llama.cpp's per-tensor "… not divisible by 256 (required for type q4_K) -> falling back to q5_0". */
const perTensorFallback = /-> falling back to/;

answerParent<NativeQuantizeRequest>(async (request, { logger, progress }) => {
  const binding = await loadLlamaQuantizeBinding();
  const logLines: string[] = [];
  const errorLines: string[] = [];
  let progressStarted = false;
  const code = await binding.quantize(request, (level, line) => {
    logLines.push(line);
    if (level === "error") errorLines.push(line.trim());
    // One line per fallback tensor (36 for stories260K Q4_K_M) says what the pass's fallback note sums up: debug only.
    if (level === "warn" && !perTensorFallback.test(line)) logger?.warn(`llama.cpp: ${line.trim()}`);
    else logger?.debug(`llama.cpp: ${line}`);
    const match = progressLine.exec(line);
    if (match) {
      if (!progressStarted) progress?.start("quantize", Number(match[2]));
      progressStarted = true;
      progress?.update(Number(match[1]), match[3]);
    }
  });
  if (progressStarted) progress?.finish();
  if (code !== 0) throw quantizeFailure(errorLines, logLines);
  return { libllama: binding.files.libllama, release: binding.files.llamaCppRelease, logLines } satisfies QuantizeChildResult;
});

/** Map llama.cpp's failure text to an error a user can act on. */
function quantizeFailure(errorLines: string[], logLines: string[]): EdgeforgeError {
  const reason =
    errorLines
      .map((line) => /failed to quantize: (.*)$/.exec(line)?.[1])
      .filter((text): text is string => text !== undefined)
      .pop() ?? errorLines.at(-1) ?? "unknown error";
  const details = { llamaCppError: reason, lastLogLines: logLines.slice(-20) };
  if (/imatrix|importance matrix/i.test(reason)) {
    return new EdgeforgeError("INVALID_OPTION", `llama.cpp refused: ${reason}`, {
      hint: "this type needs an importance matrix: pass --imatrix FILE (a llama-imatrix .gguf or legacy .dat file)",
      details,
    });
  }
  if (/requantizing from type/i.test(reason)) {
    return new EdgeforgeError("INVALID_OPTION", `llama.cpp refused: ${reason}`, {
      hint: "the input is already quantized; pass --allow-requantize (quality suffers), or start from the F16/F32 model",
      details,
    });
  }
  return new EdgeforgeError("RUNTIME_FAILED", `llama.cpp failed to quantize: ${reason}`, {
    hint: "check that the input is a llama.cpp-compatible GGUF; rerun with EDGEFORGE_DEBUG=1 to see llama.cpp's log",
    details,
  });
}
