import { float16BitsToFloat32 } from "../kernels/float16.js";
import type { Tensor } from "../core/tensor.js";

/** A tensor's values as numbers: float arrays as they are, float16 decoded, integers converted. */
export function tensorNumbers(tensor: Tensor): Float32Array | Float64Array {
  const data = tensor.data;
  if (data instanceof Float32Array || data instanceof Float64Array) return data;
  if (tensor.dtype === "float16") return Float32Array.from(data as Uint16Array, float16BitsToFloat32);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Float64Array.from(data, Number);
  return Float64Array.from(data as ArrayLike<number>);
}

/** Index of the largest value in values[offset, offset + length). */
export function argmax(values: ArrayLike<number>, offset = 0, length = values.length - offset): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < length; i += 1) {
    const value = values[offset + i] as number;
    if (value > bestValue) {
      bestValue = value;
      best = i;
    }
  }
  return best;
}

/** Indices of the k largest values of a row, largest first. */
export function topK(values: ArrayLike<number>, k: number, offset = 0, length = values.length - offset): number[] {
  const best: number[] = [];
  for (let i = 0; i < length; i += 1) {
    const value = values[offset + i] as number;
    if (best.length < k || value > (values[offset + (best[best.length - 1] as number)] as number)) {
      let position = best.length;
      while (position > 0 && value > (values[offset + (best[position - 1] as number)] as number)) position -= 1;
      best.splice(position, 0, i);
      if (best.length > k) best.pop();
    }
  }
  return best;
}
