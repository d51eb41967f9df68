import type { Session } from "../../core/session.js";

/**
 * What LLM evaluation needs from an engine, beyond the Session contract. The api layer passes an
 * opener that returns one (today the llama-cpp runtime), so evaluation never imports an engine.
 */
export interface LlmSession extends Session {
  readonly vocabularySize: number;
  readonly contextSize: number;
  readonly threads: number;
  readonly bosToken: number | undefined;
  readonly addsBosToken: boolean;
  readonly loadTimings: { backendInitNs: bigint; modelLoadNs: bigint; contextCreateNs: bigint };
  tokenize(text: string, options?: { addBos?: boolean }): Int32Array;
  /** Logits of positions firstPosition..n-1 of `tokens` decoded as a fresh sequence, float32 [(n − first) × vocab]. */
  evaluateLogits(tokens: Int32Array, firstPosition: number, signal?: AbortSignal): Promise<Float32Array>;
  resetSequence(): Promise<void>;
  /** Decode tokens after the current ones without computing logits (timing primitive). */
  appendTokens(tokens: Int32Array): Promise<void>;
}

export interface LlmSessionSettings {
  threads?: number;
  contextSize?: number;
  batchSize?: number;
}

export type OpenLlmSession = (modelPath: string, settings: LlmSessionSettings) => Promise<LlmSession>;
