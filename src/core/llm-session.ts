import type { Session } from "./session.js";

/** A session over token ids ({ tokens: int32 [n] } → { logits: float32 [n, vocab] }): llama.cpp's or MLX's. */
export interface TokenSession extends Session {
  readonly vocabularySize: number;
  readonly contextSize: number;
}

/**
 * What LLM evaluation and benchmarks need from an engine beyond the Session contract (llama.cpp's
 * session today). The api layer passes an opener that returns one, so evaluation never imports an engine.
 */
/** A session that keeps one sequence (a KV cache) and decodes tokens after it: what timing generation needs. */
export interface SequenceSession {
  /** Forget the sequence's tokens (the KV cache). */
  resetSequence(): Promise<void>;
  /** Decode tokens after those already in the sequence, computing no logits: the timing primitive for pp/tg benchmarks. */
  appendTokens(tokens: Int32Array): Promise<void>;
}

export interface LlmSession extends TokenSession, SequenceSession {
  readonly threads: number;
  /** BOS token id, or undefined when the vocabulary has none. */
  readonly bosToken: number | undefined;
  /** Whether the model's tokenizer prepends BOS (tokenizer.ggml.add_bos_token). */
  readonly addsBosToken: boolean;
  /** Backend init (first open in the process only), model load and context creation. */
  readonly loadTimings: { backendInitNs: bigint; modelLoadNs: bigint; contextCreateNs: bigint };
  tokenize(text: string, options?: { addBos?: boolean }): Int32Array;
  /**
   * Decode `tokens` as a fresh sequence and return the logits of positions `firstPosition..n-1`
   * as a float32 [(n - firstPosition) × vocab] array (row-major).
   */
  evaluateLogits(tokens: Int32Array, firstPosition: number, signal?: AbortSignal): Promise<Float32Array>;
}

export interface LlmSessionSettings {
  threads?: number;
  contextSize?: number;
  batchSize?: number;
}

export type OpenLlmSession = (modelPath: string, settings: LlmSessionSettings) => Promise<LlmSession>;
