import type { ModelFormat } from "../core/artifact.js";
import type { Session } from "../core/session.js";
import { openRuntimeSession, runtimeForFormat } from "../runtimes/catalog.js";
import type { LlamaCppGenerator } from "../runtimes/llama-cpp/llama-cpp-generator.js";

/** What a serving worker opens; kept apart from serve.ts so worker processes do not load the registry or signing code. */
export type { ChatMessage, GeneratedText, GenerateTextOptions, LlamaCppGenerator } from "../runtimes/llama-cpp/llama-cpp-generator.js";

/** Open an ONNX model for serving on its default runtime. */
export async function openServingSession(path: string, format: ModelFormat, settings: { threads?: number }): Promise<Session> {
  return openRuntimeSession(runtimeForFormat(format), path, format, settings.threads === undefined ? {} : { threads: settings.threads });
}

/** Open a GGUF model for text generation (chat template from the GGUF). */
export async function openTextGenerator(path: string, settings: { threads?: number; contextSize?: number }): Promise<LlamaCppGenerator> {
  const { openLlamaCppGenerator } = await import("../runtimes/llama-cpp/llama-cpp-generator.js");
  return openLlamaCppGenerator(path, settings);
}
