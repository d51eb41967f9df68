import { callInChild, childEntry } from "../../core/child-call.js";
import type { Reporter } from "../../core/logger.js";
import type { QuantizeChildResult } from "./llama-quantize-child.js";
import type { NativeQuantizeRequest } from "./llama-quantize-native.js";

export interface LlamaQuantizeRunResult {
  libllama: string;
  llamaCppRelease: string | undefined;
  /** Every line llama.cpp logged, for provenance and debugging. */
  logLines: string[];
  durationNs: bigint;
}

/**
 * Run llama_model_quantize in a child process (core/child-call.ts: killed on abort, dies with its
 * parent, a native abort comes back as RUNTIME_FAILED with llama.cpp's last words). llama.cpp's log
 * lines arrive as debug log messages; its per-tensor lines drive `progress`.
 */
export async function spawnLlamaQuantize(request: NativeQuantizeRequest, reporter: Reporter = {}): Promise<LlamaQuantizeRunResult> {
  const started = process.hrtime.bigint();
  const result = await callInChild<QuantizeChildResult>(childEntry(import.meta.url, "llama-quantize-child"), request, { what: "the llama.cpp quantization process", ...reporter });
  return { libllama: result.libllama, llamaCppRelease: result.release, logLines: result.logLines, durationNs: process.hrtime.bigint() - started };
}
