import type { NamedTensors } from "../core/tensor.js";

/** One example: model inputs, and a label where the dataset has one (class index or text). */
export interface DatasetSample {
  id: string;
  inputs: NamedTensors;
  label?: number | string;
}

/**
 * Calibration and evaluation data, whatever it was read from (image folder + preprocessing,
 * .npy folder, JSON/JSONL). Samples are produced lazily so large sets need not sit in memory.
 */
export interface Dataset {
  /** Where it came from, for reports. */
  source: string;
  size: number;
  samples(signal?: AbortSignal): AsyncIterable<DatasetSample>;
  /**
   * sha256 of what the samples are made from (file bytes, ids, labels, the spec and its preprocessing):
   * change any of it and it changes. Keys the cached outputs of passes calibrated on the data.
   */
  fingerprint(signal?: AbortSignal): Promise<string>;
}
