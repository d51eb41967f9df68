import type { NamedTensors, Tensor } from "../core/tensor.js";
import { argmax } from "../eval/tensor-values.js";

function firstFloatOutput(results: NamedTensors): Tensor | undefined {
  return Object.values(results).find((t) => t.data instanceof Float32Array || t.data instanceof Float64Array);
}

/** Mean over rows of the top-1 probability of the first floating output (softmax applied when rows are not already probabilities). */
export function predictionConfidence(results: NamedTensors): number | undefined {
  const tensor = firstFloatOutput(results);
  if (!tensor || tensor.dims.length === 0) return undefined;
  const width = tensor.dims.at(-1)!;
  const data = tensor.data as Float32Array | Float64Array;
  if (width < 1 || data.length === 0) return undefined;
  const rows = data.length / width;
  let total = 0;
  for (let row = 0; row < rows; row += 1) {
    let max = -Infinity;
    let sum = 0;
    let probabilities = true;
    for (let i = row * width; i < (row + 1) * width; i += 1) {
      const value = data[i]!;
      if (value > max) max = value;
      if (!(value >= 0 && value <= 1)) probabilities = false;
      sum += value;
    }
    if (width === 1) {
      total += probabilities ? max : 1 / (1 + Math.exp(-max));
    } else if (probabilities && Math.abs(sum - 1) < 1e-3) {
      total += max;
    } else {
      let denominator = 0;
      for (let i = row * width; i < (row + 1) * width; i += 1) denominator += Math.exp(data[i]! - max);
      total += 1 / denominator;
    }
  }
  const confidence = total / rows;
  return Number.isFinite(confidence) ? confidence : undefined;
}

/** The top-1 class of the first row of a classifier's output ([N, classes], classes ≥ 2). */
export function predictedClass(results: NamedTensors): number | undefined {
  const tensor = firstFloatOutput(results);
  if (!tensor || tensor.dims.length !== 2) return undefined;
  const width = tensor.dims[1]!;
  if (width < 2 || tensor.data.length < width) return undefined;
  return argmax(tensor.data as Float32Array | Float64Array, 0, width);
}
