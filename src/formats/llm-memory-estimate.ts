import type { MemoryEstimate } from "./model-inspection.js";

/** The transformer-decoder sizes the KV-cache and RAM estimates need (from GGUF metadata or config.json). */
export interface LlmDimensions {
  layerCount: number;
  embeddingLength: number;
  headCount: number;
  /** KV heads per layer: one number for all layers, or one per layer (some GGUFs vary it). */
  headCountKv: number | number[];
  /** Per-head key and value widths (usually embeddingLength / headCount). */
  keyLength: number;
  valueLength: number;
  feedForwardLength?: number;
  vocabSize?: number;
}

/** KV cache stored as f16, llama.cpp's default cache type. */
export const kvCacheBytesPerElement = 2;
/** llama.cpp's default micro-batch (n_ubatch) for prompt processing. */
export const defaultMicroBatchTokens = 512;

/**
 * K and V for every layer and position: Σ_layers ctx × n_head_kv × (key_length + value_length) × 2 bytes,
 * i.e. 2 × n_layer × ctx × n_head_kv × head_dim × bytes(f16) when K and V have the same width.
 */
export function estimateKvCacheBytes(dims: LlmDimensions, contextLength: number): number {
  const kvHeads = Array.isArray(dims.headCountKv) ? dims.headCountKv : new Array<number>(dims.layerCount).fill(dims.headCountKv);
  const headSlots = kvHeads.reduce((sum, heads) => sum + heads, 0);
  return headSlots * contextLength * (dims.keyLength + dims.valueLength) * kvCacheBytesPerElement;
}

/**
 * llama.cpp's compute buffer, as f32 scratch for one micro-batch of n_ub = min(512, ctx) tokens:
 * n_ub × (max(n_vocab, 2·n_ff) + 2·n_embd) × 4 bytes — the logits (or the FFN intermediates when
 * they are wider) plus the residual stream. It assumes flash attention (llama.cpp's "auto" default
 * on CPU); without it llama.cpp also holds n_ub × ctx × n_head × 4 bytes of attention scores.
 * Checked against llama.cpp's reported "CPU compute buffer size" for the tiny-fortunes model
 * (4.50 MiB at ctx 256, 9.00 MiB at ctx 1024). A rule of thumb, not a measurement.
 */
export function estimateComputeBufferBytes(dims: LlmDimensions, contextLength: number): number {
  const tokens = Math.min(defaultMicroBatchTokens, contextLength);
  const widest = Math.max(dims.vocabSize ?? 0, 2 * (dims.feedForwardLength ?? 4 * dims.embeddingLength));
  return tokens * (widest + 2 * dims.embeddingLength) * 4;
}

export const llmMemoryMethod =
  "estimate: weights as stored + f16 KV cache (Σ layers ctx × n_head_kv × (k_dim + v_dim) × 2 B) + compute buffer " +
  "(n_ub × (max(n_vocab, 2·n_ff) + 2·n_embd) × 4 B, n_ub = min(512, ctx), flash attention assumed)";

export const weightsOnlyMethod = "estimate: weights as stored (no LLM hyper-parameters found, so no KV cache or compute buffer)";

export interface LlmMemoryEstimate extends MemoryEstimate {
  /** The compute-buffer part of `estimatedRunBytes`. */
  computeBufferBytes?: number;
}

/** Weights + KV cache + compute buffer at `contextLength`; weights only when the dimensions are unknown. */
export function estimateLlmMemory(weightsBytes: number, dims: LlmDimensions | undefined, contextLength: number | undefined): LlmMemoryEstimate {
  if (!dims || contextLength === undefined) {
    return { weightsBytes, estimatedRunBytes: weightsBytes, method: weightsOnlyMethod };
  }
  const kvCacheBytes = estimateKvCacheBytes(dims, contextLength);
  const computeBytes = estimateComputeBufferBytes(dims, contextLength);
  return {
    weightsBytes,
    kvCacheBytes,
    contextLength,
    computeBufferBytes: computeBytes,
    estimatedRunBytes: weightsBytes + kvCacheBytes + computeBytes,
    method: llmMemoryMethod,
  };
}
