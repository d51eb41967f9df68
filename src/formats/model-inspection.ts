import type { ModelFormat } from "../core/artifact.js";

/** Figures every format's inspection provides, so `inspect --target` and planning treat models alike. */
export interface MemoryEstimate {
  /** Bytes of weights as stored. */
  weightsBytes: number;
  /** KV-cache bytes at `contextLength` tokens (LLMs only). */
  kvCacheBytes?: number;
  contextLength?: number;
  /** Weights + KV cache + runtime overhead: an estimate, labelled as such in every rendering. */
  estimatedRunBytes: number;
  /** How the estimate was formed, for reports. */
  method: string;
}

export interface DtypeTally {
  dtype: string;
  parameterCount: number;
  sizeBytes: number;
}

export interface ModelSummary {
  format: ModelFormat;
  path: string;
  fileSizeBytes: number;
  parameterCount: number;
  byDtype: DtypeTally[];
  /** e.g. "cnn", "transformer-decoder", "llama". */
  architecture: string;
  memory: MemoryEstimate;
}
