import { EdgeforgeError } from "../../core/errors.js";
import { float16BitsToFloat32, float32ToFloat16Bits } from "../../kernels/float16.js";
import { bfloat16BitsToFloat32, float32ToBfloat16Bits } from "../../kernels/bfloat16.js";

/**
 * MLX affine quantization, as mlx/backend/cpu/quantized.cpp `quantize` computes it (ml-explore/mlx
 * 846d176): per group of `groupSize` consecutive values in a row, in float32,
 *   scale = max((max − min) / (2^bits − 1), 1e−7), negated unless |min| > |max|;
 *   edge = min if |min| > |max| else max; q0 = rint(edge / scale);
 *   if q0 ≠ 0: scale = edge / q0, bias = edge (so 0 is exactly representable), else bias = 0;
 *   q = clamp(rint((w − bias) / scale), 0, 2^bits − 1),
 * packed into uint32 words from the lowest bits up (element k of a word at bits k·bits), and
 * scale/bias stored in the weight's own dtype. Dequantization is w ≈ scale·q + bias.
 * bits 4 and 8 (powers of two, so words never straddle) and group sizes 32/64/128 are offered.
 */
export const mlxBits = [4, 8] as const;
export const mlxGroupSizes = [32, 64, 128] as const;
export type MlxScaleDtype = "F16" | "BF16" | "F32";

export interface MlxQuantizedTensor {
  /** [rows, cols · bits / 32] words. */
  packed: Uint32Array;
  /** [rows, cols / groupSize], already rounded to `scaleDtype` (the values MLX dequantizes with). */
  scales: Float32Array;
  biases: Float32Array;
}

const roundToDtype: Record<MlxScaleDtype, (value: number) => number> = {
  F32: (value) => Math.fround(value),
  F16: (value) => float16BitsToFloat32(float32ToFloat16Bits(value)),
  BF16: (value) => bfloat16BitsToFloat32(float32ToBfloat16Bits(value)),
};

/** std::rint: round half to even. */
function rint(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

export function quantizeMlxAffine(values: Float32Array, rows: number, cols: number, groupSize: number, bits: number, scaleDtype: MlxScaleDtype): MlxQuantizedTensor {
  if (cols % groupSize !== 0 || groupSize % (32 / bits) !== 0 || values.length !== rows * cols) {
    throw new EdgeforgeError("INTERNAL", `cannot quantize [${rows}, ${cols}] with group size ${groupSize} at ${bits} bits`, { hint: "callers keep such tensors unquantized" });
  }
  const levels = 2 ** bits - 1;
  const perWord = 32 / bits;
  const groups = values.length / groupSize;
  const packed = new Uint32Array(values.length / perWord);
  const scales = new Float32Array(groups);
  const biases = new Float32Array(groups);
  const round = roundToDtype[scaleDtype];
  const f = Math.fround;
  for (let group = 0; group < groups; group += 1) {
    const start = group * groupSize;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < groupSize; i += 1) {
      const w = values[start + i] as number;
      if (w > max) max = w;
      if (w < min) min = w;
    }
    const mask = Math.abs(min) > Math.abs(max);
    let scale = Math.max(f(f(max - min) / levels), f(1e-7));
    scale = mask ? scale : -scale;
    const edge = mask ? min : max;
    const q0 = rint(f(edge / scale));
    let bias = 0;
    if (q0 !== 0) {
      scale = f(edge / q0);
      bias = edge;
    }
    for (let word = 0; word < groupSize / perWord; word += 1) {
      let packedWord = 0;
      for (let k = 0; k < perWord; k += 1) {
        const w = values[start + word * perWord + k] as number;
        const q = Math.min(Math.max(rint(f(f(w - bias) / scale)), 0), levels);
        packedWord += q * 2 ** (k * bits);
      }
      packed[(start / perWord) + word] = packedWord;
    }
    scales[group] = round(scale);
    biases[group] = round(bias);
  }
  return { packed, scales, biases };
}
