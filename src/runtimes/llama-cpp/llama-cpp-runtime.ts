import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type * as NodeLlamaCpp from "node-llama-cpp";
import type { Llama, LlamaModel, Token } from "node-llama-cpp";
import { EdgeforgeError } from "../../core/errors.js";
import type { LlmSession } from "../../core/llm-session.js";
import type { RunOptions, SessionDescription } from "../../core/session.js";
import type { NamedTensors } from "../../core/tensor.js";
import { ggufVocabularySize } from "../../formats/gguf/gguf-metadata.js";
import { readGgufHeader } from "../../formats/gguf/read-gguf.js";
import { captureLlamaLog, describeLlamaMemory } from "./llama-memory-buffers.js";
import { openNativeLogitsContext, type NativeLogitsContext } from "./llama-native-logits.js";

export interface LlamaCppSessionSettings {
  /** Threads for prompt processing and generation; default: node-llama-cpp's choice (the CPU math cores). */
  threads?: number;
  /** Tokens the context holds; default: the model's training context. */
  contextSize?: number;
  /** Tokens decoded per llama_decode call; default: the context size. */
  batchSize?: number;
  /**
   * How evaluateLogits reads logits: "native" (default) from llama.cpp's output buffer through
   * koffi into one Float32Array, in a second context on the same model opened at the first call;
   * "node-llama-cpp" through its public controlledEvaluate (a Map per position, ~10–100× slower).
   * Native falls back to node-llama-cpp when libllama's structs do not match (settings.logitsPath says which ran).
   */
  logits?: "native" | "node-llama-cpp";
}

/**
 * A llama.cpp model loaded through node-llama-cpp. `run` is the engine-neutral Session contract
 * ({ tokens: int32 [n] } → { logits: float32 [n, vocab] }, each run a fresh sequence from position
 * 0); the extra members give LLM evaluation and benchmarks what they need without touching
 * node-llama-cpp themselves.
 */
export type LlamaCppSession = LlmSession;

let llamaPromise: Promise<{ llama: Llama; initNs: bigint }> | undefined;

/** The process's one llama.cpp backend (prebuilt, CPU), loaded on first use. */
export async function loadLlama(): Promise<{ llama: Llama; initNs: bigint; fresh: boolean }> {
  const fresh = llamaPromise === undefined;
  llamaPromise ??= (async () => {
    const started = process.hrtime.bigint();
    let module: typeof NodeLlamaCpp;
    try {
      module = await import("node-llama-cpp");
    } catch (error) {
      throw unavailable("node-llama-cpp could not be imported", error);
    }
    try {
      // maxThreads 0: the `threads` asked for is the number used (not a hint shared between contexts).
      const llama = await module.getLlama({ build: "never", gpu: false, maxThreads: 0, logLevel: module.LlamaLogLevel.error, logger: () => {} });
      return { llama, initNs: process.hrtime.bigint() - started };
    } catch (error) {
      throw unavailable("node-llama-cpp's prebuilt llama.cpp could not be loaded", error);
    }
  })();
  try {
    const { llama, initNs } = await llamaPromise;
    return { llama, initNs, fresh };
  } catch (error) {
    llamaPromise = undefined;
    throw error;
  }
}

function unavailable(message: string, cause: unknown): EdgeforgeError {
  return new EdgeforgeError("RUNTIME_UNAVAILABLE", `${message}: ${cause instanceof Error ? cause.message : String(cause)}`, {
    hint: "reinstall with `npm install`; edgeforge uses node-llama-cpp's prebuilt CPU binaries and never builds llama.cpp",
    cause,
  });
}

let cachedVersion: string | undefined;
export async function nodeLlamaCppVersion(): Promise<string> {
  if (cachedVersion) return cachedVersion;
  const entry = createRequire(import.meta.url).resolve("node-llama-cpp");
  const packageJson = JSON.parse(await readFile(join(dirname(entry), "..", "package.json"), "utf8")) as { version: string };
  cachedVersion = packageJson.version;
  return cachedVersion;
}

function checkPositive(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new EdgeforgeError("INVALID_OPTION", `${name} must be a positive integer, not ${value}`, { hint: `e.g. ${name}: 4`, details: { [name]: value } });
  }
}

/** Load llama.cpp's native library without a model: the runtime's fixed memory, for the memory reference child. */
export async function loadLlamaCppEngine(): Promise<void> {
  await loadLlama();
}

/** Load a GGUF memory-mapped; llama.cpp's refusal becomes a typed error naming the file. */
export async function loadLlamaModel(llama: Llama, modelPath: string): Promise<LlamaModel> {
  try {
    return await llama.loadModel({ modelPath, useMmap: true });
  } catch (error) {
    throw new EdgeforgeError("RUNTIME_FAILED", `llama.cpp could not load ${modelPath}: ${error instanceof Error ? error.message : String(error)}`, {
      hint: "check that the file is a llama.cpp-compatible GGUF of a supported architecture",
      details: { path: modelPath },
      cause: error,
    });
  }
}

export async function openLlamaCppSession(modelPath: string, settings: LlamaCppSessionSettings = {}): Promise<LlamaCppSession> {
  checkPositive("threads", settings.threads);
  checkPositive("contextSize", settings.contextSize);
  checkPositive("batchSize", settings.batchSize);
  // The GGUF reader gives clear errors (truncated, not GGUF) before llama.cpp sees the file.
  const header = await readGgufHeader(modelPath);
  const vocabularySize = ggufVocabularySize(header.metadata);
  if (vocabularySize === 0) {
    throw new EdgeforgeError("UNSUPPORTED_FEATURE", `${modelPath} has no tokenizer.ggml.tokens vocabulary`, {
      hint: "the llama-cpp runtime runs language models with an embedded tokenizer",
      details: { path: modelPath },
    });
  }
  const { llama, initNs, fresh } = await loadLlama();
  const version = await nodeLlamaCppVersion();

  const { LlamaLogLevel } = await import("node-llama-cpp");
  // llama.cpp logs the buffers it allocates (KV cache, compute) at info level: captured for the memory report.
  const { result: loaded, log } = await captureLlamaLog(llama, LlamaLogLevel.error, LlamaLogLevel.info, async () => {
    const loadStarted = process.hrtime.bigint();
    const model = await loadLlamaModel(llama, modelPath);
    const modelLoadNs = process.hrtime.bigint() - loadStarted;
    const contextSize = settings.contextSize ?? model.trainContextSize;
    const contextStarted = process.hrtime.bigint();
    try {
      const context = await model.createContext({
        contextSize,
        // node-llama-cpp's own default, so an unset batch measures what users run: the context, at most 512 tokens
        // (llama.cpp sizes its compute buffer by it: a 4096-token batch over a 32k vocabulary is 512 MiB of logits alone).
        batchSize: settings.batchSize ?? Math.min(512, contextSize),
        sequences: 1,
        flashAttention: false,
        ...(settings.threads === undefined ? {} : { threads: settings.threads }),
      });
      return { model, context, modelLoadNs, contextCreateNs: process.hrtime.bigint() - contextStarted };
    } catch (error) {
      await model.dispose();
      throw new EdgeforgeError("RUNTIME_FAILED", `llama.cpp could not create a ${contextSize}-token context: ${error instanceof Error ? error.message : String(error)}`, {
        hint: "lower the context size",
        details: { path: modelPath, contextSize },
        cause: error,
      });
    }
  });
  const { model, context, modelLoadNs, contextCreateNs } = loaded;
  const sequence = context.getSequence();
  const threads = context.currentThreads;

  const description: SessionDescription = {
    runtime: "llama-cpp",
    runtimeVersion: version,
    executionProvider: "cpu",
    requestedProviders: ["cpu"],
    intraOpThreads: threads,
    inputs: [{ name: "tokens", dtype: "int32", shape: ["n"] }],
    outputs: [{ name: "logits", dtype: "float32", shape: ["n", vocabularySize] }],
    settings: {
      llamaCppRelease: llama.llamaCppRelease.release,
      buildType: llama.buildType,
      gpu: false,
      threads,
      contextSize: context.contextSize,
      batchSize: context.batchSize,
      flashAttention: false,
      logitsPath: settings.logits ?? "native",
    },
    memory: describeLlamaMemory(log, model.size, context.memoryUsage.ram),
  };

  let native: Promise<NativeLogitsContext | undefined> | undefined;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    (await native?.catch(() => undefined))?.close();
    await context.dispose();
    await model.dispose();
  };
  const checkLength = (length: number): void => {
    if (length > context.contextSize) {
      throw new EdgeforgeError("INVALID_SHAPE", `${length} tokens do not fit the ${context.contextSize}-token context`, {
        hint: "evaluate shorter sequences or open the session with a larger contextSize",
        details: { tokens: length, contextSize: context.contextSize },
      });
    }
  };
  const nativeContext = (): Promise<NativeLogitsContext | undefined> => {
    native ??= openNativeLogitsContext(modelPath, { contextSize: context.contextSize, threads }).then(
      (opened) => {
        description.settings.logitsPath = "native";
        return opened;
      },
      (error: unknown) => {
        if (!EdgeforgeError.isInstance(error) || error.code !== "RUNTIME_UNAVAILABLE") throw error;
        description.settings.logitsPath = "node-llama-cpp";
        description.settings.nativeLogitsUnavailable = error.message;
        return undefined;
      },
    );
    return native;
  };
  const evaluateLogits = async (tokenIds: Int32Array, firstPosition: number, signal?: AbortSignal): Promise<Float32Array> => {
    checkLength(tokenIds.length);
    signal?.throwIfAborted();
    const fast = (settings.logits ?? "native") === "native" ? await nativeContext() : undefined;
    if (fast) return fast.evaluateLogits(tokenIds, firstPosition);
    await sequence.clearHistory();
    const input = Array.from(tokenIds, (token, index) => (index >= firstPosition ? ([token, { generateNext: { logits: true } }] as [Token, { generateNext: { logits: true } }]) : (token as Token)));
    const results = await sequence.controlledEvaluate(input);
    const rows = tokenIds.length - firstPosition;
    const logits = new Float32Array(rows * vocabularySize);
    for (let row = 0; row < rows; row += 1) {
      const map = results[firstPosition + row]?.next?.logits;
      if (!map || map.size !== vocabularySize) {
        throw new EdgeforgeError("RUNTIME_FAILED", `llama.cpp returned ${map?.size ?? 0} logits for position ${firstPosition + row}, expected ${vocabularySize}`, {
          hint: "this is a bug; please report it with the model",
        });
      }
      const offset = row * vocabularySize;
      for (const [token, value] of map) logits[offset + token] = value;
    }
    return logits;
  };

  return {
    vocabularySize,
    contextSize: context.contextSize,
    threads,
    bosToken: model.tokens.bos ?? undefined,
    addsBosToken: model.tokens.shouldPrependBosToken,
    loadTimings: { backendInitNs: fresh ? initNs : 0n, modelLoadNs, contextCreateNs },
    describe: () => description,
    tokenize(text, options = {}) {
      const ids = model.tokenize(text, false);
      const bos = model.tokens.bos;
      const prepend = (options.addBos ?? model.tokens.shouldPrependBosToken) && bos !== null;
      const out = new Int32Array(ids.length + (prepend ? 1 : 0));
      if (prepend) out[0] = bos;
      out.set(ids, prepend ? 1 : 0);
      return out;
    },
    evaluateLogits,
    async run(inputs: NamedTensors, options: RunOptions = {}): Promise<NamedTensors> {
      const tokens = inputs.tokens;
      if (!tokens || tokens.dtype !== "int32" || tokens.dims.length !== 1 || !(tokens.data instanceof Int32Array)) {
        throw new EdgeforgeError("INVALID_SHAPE", "the llama-cpp session takes one input, tokens: int32 [n]", {
          hint: "pass { tokens: { dtype: \"int32\", dims: [n], data: Int32Array } }",
          details: { inputs: Object.keys(inputs) },
        });
      }
      const logits = await evaluateLogits(tokens.data, 0, options.signal);
      return { logits: { dtype: "float32", dims: [tokens.data.length, vocabularySize], data: logits } };
    },
    async resetSequence() {
      await sequence.clearHistory();
    },
    async appendTokens(tokenIds) {
      checkLength(sequence.nextTokenIndex + tokenIds.length);
      await sequence.evaluateWithoutGeneratingNewTokens(Array.from(tokenIds) as Token[]);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
