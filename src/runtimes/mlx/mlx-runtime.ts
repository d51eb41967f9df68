import { existsSync, readFileSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { join } from "node:path";
import { EdgeforgeError, fileError } from "../../core/errors.js";
import type { SequenceSession, TokenSession } from "../../core/llm-session.js";
import type { RunOptions, SessionDescription } from "../../core/session.js";
import type { NamedTensors } from "../../core/tensor.js";
import { parseNpy } from "../../datasets/npy.js";
import { readPackageVersion } from "../package-version.js";

/**
 * MLX itself, through node-mlx (`@frost-beta/mlx`, an optional dependency that ships a prebuilt
 * MLX for macOS and Linux CPU). A folder written by mlx.export (or mlx_lm) runs as a llama
 * decoder written with MLX ops: embedding → RMSNorm → attention with RoPE → SwiGLU → logits,
 * quantized weights through `quantizedMatmul`, float ones through `matmul`. Computation is in
 * float32 (scales and biases are converted exactly from their stored float16/bfloat16).
 */
type MlxArray = {
  shape: number[];
  dtype: unknown;
  astype(dtype: unknown): MlxArray;
  reshape(...shape: number[]): MlxArray;
  transpose(...axes: number[]): MlxArray;
  T: MlxArray;
};

interface MlxCore {
  float32: unknown;
  int32: unknown;
  array(value: unknown, dtype?: unknown): MlxArray;
  load(path: string): Record<string, MlxArray>;
  take(array: MlxArray, indices: MlxArray, axis: number): MlxArray;
  matmul(a: MlxArray, b: MlxArray): MlxArray;
  quantizedMatmul(x: MlxArray, w: MlxArray, scales: MlxArray, biases: MlxArray, transpose: boolean, groupSize: number, bits: number): MlxArray;
  dequantize(w: MlxArray, scales: MlxArray, biases: MlxArray, groupSize: number, bits: number): MlxArray;
  add(a: MlxArray, b: MlxArray): MlxArray;
  multiply(a: MlxArray, b: MlxArray): MlxArray;
  sigmoid(a: MlxArray): MlxArray;
  repeat(a: MlxArray, repeats: number, axis: number): MlxArray;
  concatenate(arrays: MlxArray[], axis: number): MlxArray;
  eval(...arrays: MlxArray[]): void;
  save(path: string, array: MlxArray): void;
  fast: {
    rmsNorm(x: MlxArray, weight: MlxArray, eps: number): MlxArray;
    rope(x: MlxArray, dims: number, traditional: boolean, base: number, scale: number, offset: number): MlxArray;
    scaledDotProductAttention(q: MlxArray, k: MlxArray, v: MlxArray, scale: number, mask?: MlxArray): MlxArray;
  };
}

let mlxCore: MlxCore | undefined;

/** Load node-mlx's native module (synchronously, once); RUNTIME_UNAVAILABLE when it is absent or does not load here. */
export function loadMlx(): MlxCore {
  if (mlxCore) return mlxCore;
  try {
    const module = createRequire(import.meta.url)("@frost-beta/mlx") as { core: MlxCore };
    mlxCore = module.core;
    return mlxCore;
  } catch (error) {
    throw new EdgeforgeError("RUNTIME_UNAVAILABLE", `MLX (@frost-beta/mlx) could not be loaded: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`, {
      hint: "install @frost-beta/mlx (prebuilt for macOS and Linux x64/arm64; on Linux it needs liblapack3 and libblas3)",
      cause: error,
    });
  }
}

/** A typed copy of an MLX array's values. */
export function mlxToFloat32(array: MlxArray): Float32Array {
  const mx = loadMlx();
  // node-mlx has no typed-array export, and `tolist` makes a JS number per element (~1.9 s for 128 × 32k
  // logits here); MLX's own .npy writer to a RAM-backed folder gives the same bytes ~10× faster.
  const path = join(readBackFolder(), `edgeforge-mlx-${process.pid}-${readBackCount++}.npy`);
  try {
    mx.save(path, array.astype(mx.float32));
    return parseNpy(readFileSync(path), "MLX array read-back").data as Float32Array;
  } finally {
    rmSync(path, { force: true });
  }
}

let readBackCount = 0;
let readBackDir: string | undefined;

/** /dev/shm where there is one (Linux: memory, no disk), else the temp folder; looked up once per process. */
function readBackFolder(): string {
  readBackDir ??= existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  return readBackDir;
}

/** An MLX array from float32 values and a shape. */
export function mlxFromFloat32(values: Float32Array, shape: number[]): MlxArray {
  const mx = loadMlx();
  return mx.array(Array.from(values), mx.float32).reshape(...shape);
}

interface LlamaConfig {
  contextLength: number;
  hiddenSize: number;
  layerCount: number;
  headCount: number;
  kvHeadCount: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  vocabSize: number;
  quantization?: { groupSize: number; bits: number };
}

function readConfig(raw: Record<string, unknown>, folder: string): LlamaConfig {
  const number = (key: string, fallback?: number): number => {
    const value = raw[key];
    if (typeof value === "number") return value;
    if (fallback !== undefined) return fallback;
    throw new EdgeforgeError("INVALID_CONFIG", `${folder}/config.json has no numeric "${key}"`, { hint: "an MLX llama folder's config.json lists it" });
  };
  if (raw.model_type !== "llama" && raw.model_type !== "mistral") {
    throw new EdgeforgeError("UNSUPPORTED_FEATURE", `${folder} is a ${String(raw.model_type)} model; the MLX runtime runs llama-architecture folders`, { hint: "export a llama model with `edgeforge convert --to mlx`" });
  }
  const headCount = number("num_attention_heads");
  const hiddenSize = number("hidden_size");
  const quantization = raw.quantization as { group_size?: number; bits?: number } | undefined;
  return {
    contextLength: number("max_position_embeddings", 2048),
    hiddenSize,
    layerCount: number("num_hidden_layers"),
    headCount,
    kvHeadCount: number("num_key_value_heads", headCount),
    headDim: number("head_dim", hiddenSize / headCount),
    rmsNormEps: number("rms_norm_eps", 1e-6),
    ropeTheta: number("rope_theta", 10000),
    vocabSize: number("vocab_size"),
    ...(quantization?.group_size && quantization.bits ? { quantization: { groupSize: quantization.group_size, bits: quantization.bits } } : {}),
  };
}

async function readWeights(folder: string, mx: MlxCore): Promise<Record<string, MlxArray>> {
  let files = ["model.safetensors"];
  try {
    const index = JSON.parse(await readFile(join(folder, "model.safetensors.index.json"), "utf8")) as { weight_map?: Record<string, string> };
    if (index.weight_map) files = [...new Set(Object.values(index.weight_map))];
  } catch {
    // no index: a single model.safetensors
  }
  const weights: Record<string, MlxArray> = {};
  for (const file of files) {
    try {
      Object.assign(weights, mx.load(join(folder, file)));
    } catch (error) {
      throw new EdgeforgeError("CORRUPT_MODEL", `MLX could not load ${join(folder, file)}: ${error instanceof Error ? error.message : String(error)}`, { hint: "export the folder again", cause: error });
    }
  }
  return weights;
}

/** A sequence's keys and values so far, per layer ([1, kv heads, positions, head dim] each): MLX's KV cache. */
export interface MlxKvCache {
  layers: Array<{ keys: MlxArray; values: MlxArray }>;
}

/** The llama forward pass over MLX arrays. */
export interface MlxLlama {
  readonly config: LlamaConfig;
  readonly quantizedMatrices: number;
  readonly floatMatrices: number;
  /** Logits [n, vocab] for tokens decoded from position 0, or after the ones in `cache` (extended in place). */
  logits(tokens: Int32Array, cache?: MlxKvCache): Float32Array;
  /**
   * Decode `tokens` after the ones in `cache` (its keys and values extended in place), computing
   * every layer but not the logits, as llama.cpp's decode of tokens whose logits are not asked for.
   */
  append(tokens: Int32Array, cache: MlxKvCache): void;
}

export async function loadMlxLlama(folder: string): Promise<MlxLlama> {
  const mx = loadMlx();
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(join(folder, "config.json"), "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw fileError(error, join(folder, "config.json"), "read");
  }
  const config = readConfig(raw, folder);
  const weights = await readWeights(folder, mx);
  const f32 = (a: MlxArray): MlxArray => a.astype(mx.float32);
  const tensor = (name: string): MlxArray => {
    const found = weights[name];
    if (!found) throw new EdgeforgeError("CORRUPT_MODEL", `${folder} lacks ${name}`, { hint: "the folder is incomplete; export it again", details: { tensor: name } });
    return found;
  };
  let quantizedMatrices = 0;
  let floatMatrices = 0;
  const linears = new Map<string, (x: MlxArray) => MlxArray>();
  const linear = (prefix: string): ((x: MlxArray) => MlxArray) => {
    const cached = linears.get(prefix);
    if (cached) return cached;
    const weight = tensor(`${prefix}.weight`);
    const scales = weights[`${prefix}.scales`];
    const biases = weights[`${prefix}.biases`];
    let apply: (x: MlxArray) => MlxArray;
    if (scales && biases && config.quantization) {
      const { groupSize, bits } = config.quantization;
      const [s, b] = [f32(scales), f32(biases)];
      apply = (x) => mx.quantizedMatmul(x, weight, s, b, true, groupSize, bits);
      quantizedMatrices += 1;
    } else {
      const wT = f32(weight).T;
      apply = (x) => mx.matmul(x, wT);
      floatMatrices += 1;
    }
    linears.set(prefix, apply);
    return apply;
  };
  const norm = (name: string): MlxArray => f32(tensor(name));
  const embedName = "model.embed_tokens";
  const embedScales = weights[`${embedName}.scales`];
  const embedBiases = weights[`${embedName}.biases`];
  const embedding = embedScales && embedBiases && config.quantization
    ? mx.dequantize(tensor(`${embedName}.weight`), f32(embedScales), f32(embedBiases), config.quantization.groupSize, config.quantization.bits)
    : f32(tensor(`${embedName}.weight`));
  const head = weights["lm_head.weight"] ? linear("lm_head") : linear(embedName);
  const layers = Array.from({ length: config.layerCount }, (_, l) => {
    const p = `model.layers.${l}`;
    return {
      inputNorm: norm(`${p}.input_layernorm.weight`),
      postNorm: norm(`${p}.post_attention_layernorm.weight`),
      q: linear(`${p}.self_attn.q_proj`),
      k: linear(`${p}.self_attn.k_proj`),
      v: linear(`${p}.self_attn.v_proj`),
      o: linear(`${p}.self_attn.o_proj`),
      gate: linear(`${p}.mlp.gate_proj`),
      up: linear(`${p}.mlp.up_proj`),
      down: linear(`${p}.mlp.down_proj`),
    };
  });
  const finalNorm = norm("model.norm.weight");
  const { headCount, kvHeadCount, headDim, rmsNormEps, ropeTheta } = config;
  const scale = 1 / Math.sqrt(headDim);

  /** The normalized hidden states [n, hidden] of `tokens` at positions after the cache's (from 0 without one). */
  const hidden = (tokens: Int32Array, cache?: MlxKvCache): MlxArray => {
    const n = tokens.length;
    const offset = cache?.layers[0]?.keys.shape[2] ?? 0;
    // Query row r (position offset + r) sees keys 0..offset + r; one new token sees them all.
    const mask = n === 1 ? undefined : mx.array(Array.from({ length: n }, (_, row) => Array.from({ length: offset + n }, (_, col) => (col > offset + row ? -1e9 : 0))), mx.float32);
    let x = mx.take(embedding, mx.array(Array.from(tokens), mx.int32), 0).astype(mx.float32);
    const heads = (t: MlxArray, count: number): MlxArray => t.reshape(1, n, count, headDim).transpose(0, 2, 1, 3);
    for (const [index, layer] of layers.entries()) {
      const h = mx.fast.rmsNorm(x, layer.inputNorm, rmsNormEps);
      // HF layout (rotate_half): MLX's non-traditional RoPE, at the tokens' own positions.
      const q = mx.fast.rope(heads(layer.q(h), headCount), headDim, false, ropeTheta, 1, offset);
      let k = mx.fast.rope(heads(layer.k(h), kvHeadCount), headDim, false, ropeTheta, 1, offset);
      let v = heads(layer.v(h), kvHeadCount);
      if (cache) {
        const past = cache.layers[index];
        if (past) {
          k = mx.concatenate([past.keys, k], 2);
          v = mx.concatenate([past.values, v], 2);
        }
        cache.layers[index] = { keys: k, values: v };
      }
      if (kvHeadCount !== headCount) {
        k = mx.repeat(k, headCount / kvHeadCount, 1);
        v = mx.repeat(v, headCount / kvHeadCount, 1);
      }
      const attention = mx.fast.scaledDotProductAttention(q, k, v, scale, mask).transpose(0, 2, 1, 3).reshape(n, headCount * headDim);
      x = mx.add(x, layer.o(attention));
      const m = mx.fast.rmsNorm(x, layer.postNorm, rmsNormEps);
      const gate = layer.gate(m);
      x = mx.add(x, layer.down(mx.multiply(mx.multiply(gate, mx.sigmoid(gate)), layer.up(m))));
    }
    return mx.fast.rmsNorm(x, finalNorm, rmsNormEps);
  };

  return {
    config,
    quantizedMatrices,
    floatMatrices,
    logits(tokens, cache) {
      const logits = head(hidden(tokens, cache));
      mx.eval(logits);
      return mlxToFloat32(logits);
    },
    append(tokens, cache) {
      if (tokens.length === 0) return;
      const states = hidden(tokens, cache);
      // MLX is lazy: evaluating the last hidden states and the cache computes every layer now.
      mx.eval(states, ...cache.layers.flatMap((layer) => [layer.keys, layer.values]));
    },
  };
}

/** A Session whose token inputs the benchmark harness fills with ids below the vocabulary size, with a sequence for generation. */
export type MlxSession = TokenSession & SequenceSession;

/**
 * The engine-neutral Session over an MLX llama folder: { tokens: int32 [n] } → { logits: float32
 * [n, vocab] }, each run a full forward pass from position 0, so the harness's tokens/s for it is
 * prompt-processing throughput; `resetSequence` / `appendTokens` decode one sequence through a KV
 * cache, which the harness times as generation. MLX picks its own CPU threads.
 */
export async function openMlxSession(folder: string): Promise<MlxSession> {
  const model = await loadMlxLlama(folder);
  const version = (await readPackageVersion("@frost-beta/mlx")) ?? "unknown";
  const description: SessionDescription = {
    runtime: "mlx",
    runtimeVersion: version,
    executionProvider: "cpu",
    requestedProviders: ["cpu"],
    inputs: [{ name: "tokens", dtype: "int32", shape: ["n"] }],
    outputs: [{ name: "logits", dtype: "float32", shape: ["n", model.config.vocabSize] }],
    settings: { quantization: model.config.quantization ?? null, quantizedMatrices: model.quantizedMatrices, floatMatrices: model.floatMatrices },
  };
  const close = async (): Promise<void> => {};
  const checkIds = (tokens: Int32Array): void => {
    if (tokens.some((token) => token < 0 || token >= model.config.vocabSize)) {
      throw new EdgeforgeError("INVALID_SHAPE", `token ids must lie in 0..${model.config.vocabSize - 1}`, { hint: "tokenize with the model's own tokenizer" });
    }
  };
  let sequence: MlxKvCache = { layers: [] };
  let sequenceLength = 0;
  return {
    vocabularySize: model.config.vocabSize,
    contextSize: model.config.contextLength,
    describe: () => description,
    async run(inputs: NamedTensors, options: RunOptions = {}): Promise<NamedTensors> {
      options.signal?.throwIfAborted();
      const tokens = inputs.tokens;
      if (!tokens || tokens.dtype !== "int32" || tokens.dims.length !== 1 || !(tokens.data instanceof Int32Array) || tokens.data.length === 0) {
        throw new EdgeforgeError("INVALID_SHAPE", "the mlx session takes one input, tokens: int32 [n]", { hint: "pass { tokens: { dtype: \"int32\", dims: [n], data: Int32Array } }" });
      }
      checkIds(tokens.data);
      const logits = model.logits(tokens.data);
      return { logits: { dtype: "float32", dims: [tokens.data.length, model.config.vocabSize], data: logits } };
    },
    async resetSequence() {
      sequence = { layers: [] };
      sequenceLength = 0;
    },
    async appendTokens(tokens: Int32Array) {
      checkIds(tokens);
      if (sequenceLength + tokens.length > model.config.contextLength) {
        throw new EdgeforgeError("INVALID_SHAPE", `the sequence would hold ${sequenceLength + tokens.length} tokens, over the model's context of ${model.config.contextLength}`, { hint: "reset the sequence first" });
      }
      model.append(tokens, sequence);
      sequenceLength += tokens.length;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
