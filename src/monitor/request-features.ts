import type { NamedTensors, Tensor, TensorSpec } from "../core/tensor.js";
import { float16BitsToFloat32 } from "../kernels/float16.js";
import { percentileOfSorted } from "../stats/describe-samples.js";
import { predictedClass, predictionConfidence } from "./prediction-summary.js";

/** A number drift is judged on, one per request: numeric (compared as a distribution) or categorical (class ids). */
export interface MonitoredFeature {
  name: string;
  kind: "numeric" | "categorical";
}

/** Quantiles come from at most this many evenly strided elements, so a request's cost is bounded. */
export const quantileSampleElements = 1024;

const numericDtypes = new Set(["float32", "float64", "float16", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"]);

/** NCHW images with 2–4 channels also get one mean per channel. */
function channelCount(spec: TensorSpec): number {
  const channels = spec.shape[1];
  return spec.shape.length === 4 && typeof channels === "number" && channels >= 2 && channels <= 4 ? channels : 0;
}

/**
 * The features of a model with these inputs and outputs: per numeric input tensor its mean, sd
 * (population) and p10/p50/p90, per-channel means for NCHW images with 2–4 channels; the top-1
 * confidence; and the top-1 class for classifiers ([N, classes] output).
 */
export function planFeatures(inputs: readonly TensorSpec[], outputs: readonly TensorSpec[]): MonitoredFeature[] {
  const features: MonitoredFeature[] = [];
  for (const spec of inputs) {
    if (!numericDtypes.has(spec.dtype)) continue;
    for (const statistic of ["mean", "sd", "p10", "p50", "p90"]) features.push({ name: `${spec.name}.${statistic}`, kind: "numeric" });
    for (let c = 0; c < channelCount(spec); c += 1) features.push({ name: `${spec.name}.channel${c}.mean`, kind: "numeric" });
  }
  const output = outputs.find((o) => o.dtype === "float32" || o.dtype === "float64");
  if (output) {
    features.push({ name: "prediction.confidence", kind: "numeric" });
    if (output.shape.length === 2 && output.shape[1] !== 1) features.push({ name: "prediction.class", kind: "categorical" });
  }
  return features;
}

/** The tensor's elements as plain numbers: the typed array itself, or a decoded copy for float16 and 64-bit integers. */
function numbersOf(tensor: Tensor): ArrayLike<number> {
  const { data } = tensor;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Float64Array.from(data, Number);
  if (tensor.dtype === "float16") return Float64Array.from(data as Uint16Array, float16BitsToFloat32);
  return data as ArrayLike<number>;
}

const sample = new Float64Array(quantileSampleElements);

/**
 * One request's feature values, in `planFeatures` order, written into `out` (length = the plan's).
 * Cost: one pass over each input plus a sort of ≤ 1,024 sampled elements. NaN where a value is missing.
 * `confidence` is the results' predictionConfidence when the caller has it already (it is a pass over the outputs).
 */
export function extractFeatures(
  inputs: readonly TensorSpec[],
  outputs: readonly TensorSpec[],
  request: NamedTensors,
  results: NamedTensors,
  out: Float64Array,
  confidence: number | undefined = predictionConfidence(results),
): Float64Array {
  let k = 0;
  for (const spec of inputs) {
    if (!numericDtypes.has(spec.dtype)) continue;
    const tensor = request[spec.name];
    const channels = channelCount(spec);
    const n = tensor?.data.length ?? 0;
    if (!tensor || n === 0) {
      out.fill(Number.NaN, k, k + 5 + channels);
      k += 5 + channels;
      continue;
    }
    const values = numbersOf(tensor);
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < n; i += 1) {
      const v = values[i]!;
      sum += v;
      squares += v * v;
    }
    const mean = sum / n;
    const stride = Math.ceil(n / quantileSampleElements);
    let taken = 0;
    for (let i = 0; i < n; i += stride) sample[taken++] = values[i]!;
    const sorted = sample.subarray(0, taken).sort();
    out[k++] = mean;
    out[k++] = Math.sqrt(Math.max(0, squares / n - mean * mean));
    out[k++] = percentileOfSorted(sorted, 0.1);
    out[k++] = percentileOfSorted(sorted, 0.5);
    out[k++] = percentileOfSorted(sorted, 0.9);
    if (channels > 0) {
      const plane = n / ((tensor.dims[0] ?? 1) * channels);
      for (let c = 0; c < channels; c += 1) {
        let channelSum = 0;
        let count = 0;
        for (let start = c * plane; start < n; start += channels * plane) {
          for (let i = start; i < start + plane; i += 1) channelSum += values[i]!;
          count += plane;
        }
        out[k++] = count > 0 ? channelSum / count : Number.NaN;
      }
    }
  }
  if (outputs.some((o) => o.dtype === "float32" || o.dtype === "float64")) {
    out[k++] = confidence ?? Number.NaN;
    const output = outputs.find((o) => o.dtype === "float32" || o.dtype === "float64")!;
    if (output.shape.length === 2 && output.shape[1] !== 1) out[k++] = predictedClass(results) ?? Number.NaN;
  }
  return out;
}
