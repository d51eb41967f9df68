import type * as Koffi from "koffi";
import { EdgeforgeError } from "../../core/errors.js";
import { findLlamaLibrary } from "../../toolchain/llama-quantize/find-llama-library.js";

/**
 * Logits straight from llama.cpp's output buffer (llama_get_logits_ith) through koffi, into one
 * Float32Array per call: node-llama-cpp's public API hands logits over as a Map per position,
 * which makes perplexity over thousands of positions cost far more than llama-perplexity. The
 * structs below are field for field those of include/llama.h in the llama.cpp build
 * node-llama-cpp 3.22.1 ships (gitRelease.bundle, release v0.5.0); the defaults check refuses a
 * library whose layout moved, and the caller then falls back to node-llama-cpp's path.
 */
const modelParamsFields = {
  devices: "void *",
  tensor_buft_overrides: "void *",
  n_gpu_layers: "int32_t",
  split_mode: "int",
  load_mode: "int",
  lazy_mode: "int",
  main_gpu: "int32_t",
  tensor_split: "void *",
  progress_callback: "void *",
  progress_callback_user_data: "void *",
  kv_overrides: "void *",
  vocab_only: "bool",
  check_tensors: "bool",
  use_extra_bufts: "bool",
  no_host: "bool",
  no_alloc: "bool",
  load_mtp: "bool",
} as const;

const contextParamsFields = {
  n_ctx: "uint32_t",
  n_batch: "uint32_t",
  n_ubatch: "uint32_t",
  n_seq_max: "uint32_t",
  n_rs_seq: "uint32_t",
  n_outputs_max: "uint32_t",
  n_outputs_max_per_seq: "uint32_t",
  n_threads: "int32_t",
  n_threads_batch: "int32_t",
  ctx_type: "int",
  rope_scaling_type: "int",
  pooling_type: "int",
  attention_type: "int",
  flash_attn_type: "int",
  rope_freq_base: "float",
  rope_freq_scale: "float",
  yarn_ext_factor: "float",
  yarn_attn_factor: "float",
  yarn_beta_fast: "float",
  yarn_beta_slow: "float",
  yarn_orig_ctx: "uint32_t",
  defrag_thold: "float",
  cb_eval: "void *",
  cb_eval_user_data: "void *",
  type_k: "int",
  type_v: "int",
  abort_callback: "void *",
  abort_callback_data: "void *",
  embeddings: "bool",
  offload_kqv: "bool",
  no_perf: "bool",
  op_offload: "bool",
  swa_full: "bool",
  kv_unified: "bool",
  samplers: "void *",
  n_samplers: "size_t",
  ctx_other: "void *",
} as const;

const batchFields = {
  n_tokens: "int32_t",
  token: "void *",
  embd: "void *",
  pos: "void *",
  n_seq_id: "void *",
  seq_id: "void *",
  logits: "void *",
} as const;

/** What llama_model_default_params / llama_context_default_params return in that build (llama-model.cpp, llama-context.cpp). */
const expectedDefaults = {
  model: { n_gpu_layers: -1, load_mode: -1, lazy_mode: 1, main_gpu: 0, vocab_only: false, use_extra_bufts: true, no_alloc: false },
  context: { n_ctx: 512, n_batch: 2048, n_ubatch: 512, n_seq_max: 1, n_outputs_max_per_seq: 1, flash_attn_type: -1, yarn_ext_factor: -1, defrag_thold: -1, type_k: 1, type_v: 1, offload_kqv: true, swa_full: true },
} as const;

/** llama.cpp enum values the context below sets. */
const loadModeMmap = 1;
const lazyModeOff = 0;
const flashAttentionDisabled = 0;

type Pointer = unknown;
type NativeFunction = Koffi.KoffiFunc<(...args: unknown[]) => unknown>;

interface Binding {
  koffi: typeof Koffi;
  modelDefaults(): Record<string, unknown>;
  contextDefaults(): Record<string, unknown>;
  loadModel: NativeFunction;
  freeModel: NativeFunction;
  initContext: NativeFunction;
  freeContext: NativeFunction;
  batchInit: NativeFunction;
  batchFree: NativeFunction;
  decode: NativeFunction;
  logitsIth: NativeFunction;
  getMemory: NativeFunction;
  clearMemory: NativeFunction;
  modelVocab: NativeFunction;
  vocabTokens: NativeFunction;
}

/** Fields whose defaults differ from the expected ones (an empty list means the layout matches). */
export function describeDefaultsMismatch(model: Record<string, unknown>, context: Record<string, unknown>): string[] {
  const mismatch: string[] = [];
  for (const [key, value] of Object.entries(expectedDefaults.model)) if (model[key] !== value) mismatch.push(`llama_model_params.${key} = ${String(model[key])}, expected ${String(value)}`);
  for (const [key, value] of Object.entries(expectedDefaults.context)) if (context[key] !== value) mismatch.push(`llama_context_params.${key} = ${String(context[key])}, expected ${String(value)}`);
  return mismatch;
}

let bindingPromise: Promise<Binding> | undefined;

async function loadBinding(): Promise<Binding> {
  const files = await findLlamaLibrary();
  let koffi: typeof Koffi;
  try {
    koffi = await import("koffi");
  } catch (error) {
    throw new EdgeforgeError("RUNTIME_UNAVAILABLE", "the koffi FFI package could not be loaded", { hint: "reinstall dependencies with `npm install`", cause: error });
  }
  for (const dependency of files.dependencies) koffi.load(dependency);
  const library = koffi.load(files.libllama);
  const modelParams = koffi.struct("edgeforge_llama_model_params", modelParamsFields);
  const contextParams = koffi.struct("edgeforge_llama_context_params", contextParamsFields);
  const batch = koffi.struct("edgeforge_llama_batch", batchFields);
  const modelDefaults = library.func("llama_model_default_params", modelParams, []);
  const contextDefaults = library.func("llama_context_default_params", contextParams, []);
  const mismatch = describeDefaultsMismatch(modelDefaults() as Record<string, unknown>, contextDefaults() as Record<string, unknown>);
  if (mismatch.length > 0) {
    throw new EdgeforgeError("RUNTIME_UNAVAILABLE", `libllama's parameter structs differ from what edgeforge was built for: ${mismatch.join("; ")}`, {
      hint: "node-llama-cpp must stay pinned at 3.22.1; reinstall with `npm ci`",
      details: { libllama: files.libllama, mismatch },
    });
  }
  library.func("llama_backend_init", "void", [])();
  return {
    koffi,
    modelDefaults: () => modelDefaults() as Record<string, unknown>,
    contextDefaults: () => contextDefaults() as Record<string, unknown>,
    loadModel: library.func("llama_model_load_from_file", "void *", ["str", modelParams]),
    freeModel: library.func("llama_model_free", "void", ["void *"]),
    initContext: library.func("llama_init_from_model", "void *", ["void *", contextParams]),
    freeContext: library.func("llama_free", "void", ["void *"]),
    batchInit: library.func("llama_batch_init", batch, ["int32_t", "int32_t", "int32_t"]),
    batchFree: library.func("llama_batch_free", "void", [batch]),
    decode: library.func("llama_decode", "int32_t", ["void *", batch]),
    logitsIth: library.func("llama_get_logits_ith", "void *", ["void *", "int32_t"]),
    getMemory: library.func("llama_get_memory", "void *", ["void *"]),
    clearMemory: library.func("llama_memory_clear", "void", ["void *", "bool"]),
    modelVocab: library.func("llama_model_get_vocab", "void *", ["void *"]),
    vocabTokens: library.func("llama_vocab_n_tokens", "int32_t", ["void *"]),
  };
}

async function binding(): Promise<Binding> {
  bindingPromise ??= loadBinding();
  try {
    return await bindingPromise;
  } catch (error) {
    bindingPromise = undefined;
    throw error;
  }
}

function callAsync<T>(fn: NativeFunction, ...args: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => {
    fn.async(...args, (error: unknown, result: unknown) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result as T)));
  });
}

export interface NativeLogitsSettings {
  contextSize: number;
  threads: number;
}

/** A second llama.cpp context on the same GGUF, used only to read logits as typed arrays. */
export interface NativeLogitsContext {
  readonly vocabularySize: number;
  /** Decode `tokens` as a fresh sequence; logits of positions firstPosition..n−1, float32 [(n − first) × vocab]. */
  evaluateLogits(tokens: Int32Array, firstPosition: number): Promise<Float32Array>;
  close(): void;
}

/**
 * Load the model and a context with the settings node-llama-cpp's sessions use (n_batch = n_ubatch
 * = context, flash attention off, one sequence, the same threads, mmap, no lazy loading), so the
 * logits are the same numbers node-llama-cpp returns for the same tokens.
 */
export async function openNativeLogitsContext(modelPath: string, settings: NativeLogitsSettings): Promise<NativeLogitsContext> {
  const b = await binding();
  const { koffi } = b;
  const modelParams = { ...b.modelDefaults(), load_mode: loadModeMmap, lazy_mode: lazyModeOff };
  const model = await callAsync<Pointer>(b.loadModel, modelPath, modelParams);
  if (!model) throw new EdgeforgeError("RUNTIME_FAILED", `llama.cpp could not load ${modelPath} for logits`, { hint: "check that the file is a llama.cpp-compatible GGUF", details: { path: modelPath } });
  const n = settings.contextSize;
  const contextParams = {
    ...b.contextDefaults(),
    n_ctx: n,
    n_batch: n,
    n_ubatch: n,
    n_seq_max: 1,
    n_outputs_max: 0,
    n_outputs_max_per_seq: 0,
    n_threads: settings.threads,
    n_threads_batch: settings.threads,
    flash_attn_type: flashAttentionDisabled,
    no_perf: true,
    swa_full: false,
    kv_unified: false,
  };
  const context = await callAsync<Pointer>(b.initContext, model, contextParams);
  if (!context) {
    b.freeModel(model);
    throw new EdgeforgeError("RUNTIME_FAILED", `llama.cpp could not create a ${n}-token context for ${modelPath}`, { hint: "lower the context size", details: { path: modelPath, contextSize: n } });
  }
  const vocabularySize = b.vocabTokens(b.modelVocab(model)) as number;
  const batch = b.batchInit(n, 0, 1) as Record<string, unknown>;
  const positions = Int32Array.from({ length: n }, (_, i) => i);
  koffi.encode(batch.pos, koffi.array("int32_t", n, "Typed"), positions);
  koffi.encode(batch.n_seq_id, koffi.array("int32_t", n, "Typed"), new Int32Array(n).fill(1));
  // llama_batch_init mallocs each position's sequence-id slot: every token belongs to sequence 0.
  for (const slot of koffi.decode(batch.seq_id, koffi.array("void *", n)) as Pointer[]) koffi.encode(slot, "int32_t", 0);
  const memory = b.getMemory(context);
  const rowType = koffi.array("float", vocabularySize, "Typed");
  let busy = false;
  let closed = false;

  return {
    vocabularySize,
    async evaluateLogits(tokens, firstPosition) {
      if (closed) throw new EdgeforgeError("RUNTIME_FAILED", "the logits context is closed", { hint: "open a new session" });
      if (busy) throw new EdgeforgeError("RUNTIME_FAILED", "the logits context is already decoding", { hint: "await one evaluateLogits call before the next" });
      if (tokens.length > n || tokens.length === 0 || firstPosition < 0 || firstPosition >= tokens.length) {
        throw new EdgeforgeError("INVALID_SHAPE", `cannot decode ${tokens.length} tokens with logits from position ${firstPosition} in a ${n}-token context`, {
          hint: "evaluate shorter sequences or open the session with a larger contextSize",
          details: { tokens: tokens.length, firstPosition, contextSize: n },
        });
      }
      busy = true;
      try {
        b.clearMemory(memory, true);
        koffi.encode(batch.token, koffi.array("int32_t", tokens.length, "Typed"), tokens);
        const flags = new Int8Array(tokens.length);
        flags.fill(1, firstPosition);
        koffi.encode(batch.logits, koffi.array("int8_t", tokens.length, "Typed"), flags);
        const status = await callAsync<number>(b.decode, context, { ...batch, n_tokens: tokens.length });
        if (status !== 0) {
          throw new EdgeforgeError("RUNTIME_FAILED", `llama_decode returned ${status} for ${tokens.length} tokens`, { hint: "the context may be too small for the batch", details: { status } });
        }
        const rows = tokens.length - firstPosition;
        const logits = new Float32Array(rows * vocabularySize);
        for (let row = 0; row < rows; row += 1) {
          const pointer = b.logitsIth(context, firstPosition + row);
          if (!pointer) throw new EdgeforgeError("RUNTIME_FAILED", `llama.cpp returned no logits for position ${firstPosition + row}`, { hint: "this is a bug; please report it with the model" });
          logits.set(koffi.decode(pointer, rowType) as Float32Array, row * vocabularySize);
        }
        return logits;
      } finally {
        busy = false;
      }
    },
    close() {
      if (closed) return;
      closed = true;
      b.batchFree(batch);
      b.freeContext(context);
      b.freeModel(model);
    },
  };
}
