import type { NamedTensors, TensorSpec } from "./tensor.js";

/**
 * One engine-neutral view of a loaded model, so passes (calibration), evaluators and benchmarks
 * never care which runtime runs. Implementations live in runtimes/ (L2); this contract sits in
 * core so that passes, which must never import runtimes, can receive a Session from their context.
 */
export interface SessionDescription {
  /** Catalog id: "ort", "llama-cpp", "mlx", "openvino". */
  runtime: string;
  runtimeVersion: string;
  /** The execution provider / backend that actually ran, after any fallback (e.g. "cpu"). */
  executionProvider: string;
  /** Providers asked for, in order, before fallback. */
  requestedProviders: string[];
  intraOpThreads?: number;
  interOpThreads?: number;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Engine-specific settings that were applied, for provenance. */
  settings: Record<string, unknown>;
  /** The memory the engine says it allocated for this model, by part (llama.cpp: weights, KV cache, compute buffers). */
  memory?: RuntimeMemoryReport;
}

export interface RuntimeMemoryReport {
  totalBytes: number;
  parts: { name: string; bytes: number; includes: string }[];
  /** Where the figures come from. */
  source: string;
}

export interface RunOptions {
  /** Restrict or extend the outputs fetched; default: the model's declared outputs. */
  outputNames?: string[];
  signal?: AbortSignal;
}

export interface Session extends AsyncDisposable {
  describe(): SessionDescription;
  run(inputs: NamedTensors, options?: RunOptions): Promise<NamedTensors>;
  close(): Promise<void>;
}

/** How a pass or evaluator asks for a Session without knowing the engine. */
export type OpenSession = (modelPath: string, signal?: AbortSignal) => Promise<Session>;
