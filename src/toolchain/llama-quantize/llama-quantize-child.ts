/**
 * Child-process entry for llama_model_quantize. A native abort (GGML_ABORT, a bad file deep in
 * the loader) kills only this process; the parent reports it as an error. Protocol over the
 * IPC channel (advanced serialization, so Float32Arrays cross as typed arrays):
 *   parent → child: { type: "quantize", request }
 *   child → parent: { type: "log", level, line }*, then { type: "result", code, libllama, release } or { type: "error", error }
 */
import { exitWithParent } from "../../core/child-call.js";
import { EdgeforgeError } from "../../core/errors.js";
import { loadLlamaQuantizeBinding, type NativeQuantizeRequest } from "./llama-quantize-native.js";

export type ChildMessage =
  | { type: "log"; level: string; line: string }
  | { type: "result"; code: number; libllama: string; release: string | undefined }
  | { type: "error"; error: { code: string; message: string; hint?: string; details?: Record<string, unknown> } };

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) resolve();
    else process.send(message, undefined, undefined, () => resolve());
  });
}

async function run(request: NativeQuantizeRequest): Promise<void> {
  try {
    const binding = await loadLlamaQuantizeBinding();
    const code = await binding.quantize(request, (level, line) => void send({ type: "log", level, line }));
    await send({ type: "result", code, libllama: binding.files.libllama, release: binding.files.llamaCppRelease });
  } catch (error) {
    const wrapped = EdgeforgeError.isInstance(error)
      ? error
      : new EdgeforgeError("RUNTIME_FAILED", `llama.cpp quantization failed: ${error instanceof Error ? error.message : String(error)}`);
    await send({ type: "error", error: { code: wrapped.code, message: wrapped.message, hint: wrapped.hint, details: wrapped.details } });
  }
  process.disconnect?.();
  process.exit(0);
}

exitWithParent();
process.once("message", (message: { type: string; request: NativeQuantizeRequest }) => {
  if (message.type === "quantize") void run(message.request);
});
