import type * as NodeLlamaCpp from "node-llama-cpp";
import type { ChatHistoryItem, LlamaContext } from "node-llama-cpp";
import { EdgeforgeError } from "../../core/errors.js";
import { readGgufHeader } from "../../formats/gguf/read-gguf.js";
import { loadLlama, loadLlamaModel } from "./llama-cpp-runtime.js";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface GenerateTextOptions {
  maxTokens: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  stop?: string[];
  signal?: AbortSignal;
  /** Called with each piece of decoded text as it is generated. */
  onText?: (text: string) => void;
}

export interface GeneratedText {
  text: string;
  promptTokens: number;
  completionTokens: number;
  /** OpenAI's vocabulary: "length" when maxTokens ended it, else "stop". */
  finishReason: "stop" | "length";
}

/** Text generation on a GGUF model (one sequence: callers serialize requests). */
export interface LlamaCppGenerator extends AsyncDisposable {
  readonly contextSize: number;
  /** The chat wrapper node-llama-cpp resolved from the GGUF's chat template (or its fallback). */
  readonly chatWrapperName: string;
  complete(prompt: string, options: GenerateTextOptions): Promise<GeneratedText>;
  chat(messages: readonly ChatMessage[], options: GenerateTextOptions): Promise<GeneratedText>;
  /** The model's tokens for `text`, as plain text (special-token spellings are not parsed). */
  tokenize(text: string): readonly number[];
  close(): Promise<void>;
}

export interface LlamaCppGeneratorSettings {
  threads?: number;
  contextSize?: number;
}

function toHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((message) =>
    message.role === "assistant" ? { type: "model", response: [message.content] } : message.role === "system" ? { type: "system", text: message.content } : { type: "user", text: message.content },
  );
  // The response is generated into a trailing model turn.
  if (messages.at(-1)?.role !== "assistant") history.push({ type: "model", response: [] });
  return history;
}

export async function openLlamaCppGenerator(modelPath: string, settings: LlamaCppGeneratorSettings = {}): Promise<LlamaCppGenerator> {
  await readGgufHeader(modelPath);
  const { llama } = await loadLlama();
  const module: typeof NodeLlamaCpp = await import("node-llama-cpp");
  const model = await loadLlamaModel(llama, modelPath);
  let context: LlamaContext;
  try {
    context = await model.createContext({
      contextSize: settings.contextSize ?? model.trainContextSize,
      sequences: 1,
      flashAttention: false,
      ...(settings.threads === undefined ? {} : { threads: settings.threads }),
    });
  } catch (error) {
    await model.dispose();
    throw new EdgeforgeError("RUNTIME_FAILED", `llama.cpp could not create a context: ${error instanceof Error ? error.message : String(error)}`, {
      hint: "lower the context size",
      details: { path: modelPath },
      cause: error,
    });
  }
  const sequence = context.getSequence();
  const chat = new module.LlamaChat({ contextSequence: sequence, chatWrapper: "auto", autoDisposeSequence: false });
  const completion = new module.LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });

  const generate = async (options: GenerateTextOptions, run: (common: Record<string, unknown>) => Promise<{ text: string; stopReason: string }>): Promise<GeneratedText> => {
    await sequence.clearHistory();
    const before = sequence.tokenMeter.getState();
    const common = {
      maxTokens: options.maxTokens,
      ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
      ...(options.topP === undefined ? {} : { topP: options.topP }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      ...(options.stop && options.stop.length > 0 ? { customStopTriggers: options.stop } : {}),
      ...(options.signal ? { signal: options.signal, stopOnAbortSignal: true } : {}),
      ...(options.onText ? { onTextChunk: options.onText } : {}),
    };
    const { text, stopReason } = await run(common);
    const used = module.TokenMeter.diff(sequence.tokenMeter, before);
    return { text, promptTokens: used.usedInputTokens, completionTokens: used.usedOutputTokens, finishReason: stopReason === "maxTokens" ? "length" : "stop" };
  };

  const close = async (): Promise<void> => {
    chat.dispose();
    completion.dispose();
    await context.dispose();
    await model.dispose();
  };
  return {
    contextSize: context.contextSize,
    chatWrapperName: chat.chatWrapper.wrapperName,
    complete: (prompt, options) =>
      generate(options, async (common) => {
        const result = await completion.generateCompletionWithMeta(prompt, common);
        return { text: result.response, stopReason: result.metadata.stopReason };
      }),
    chat: (messages, options) =>
      generate(options, async (common) => {
        const result = await chat.generateResponse(toHistory(messages), common);
        return { text: result.response, stopReason: result.metadata.stopReason };
      }),
    tokenize: (text) => model.tokenize(text),
    close,
    [Symbol.asyncDispose]: close,
  };
}
