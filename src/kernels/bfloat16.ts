/** bfloat16: the top 16 bits of a float32. One rounding for every writer (HF → GGUF, MLX scales, OIP tensors). */

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** float32 bits → bfloat16 bits: round to nearest even, NaN kept quiet (gguf-py's `__compute_fp32_to_bf16`). */
function bfloat16FromFloat32Bits(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** One float32 value → bfloat16 bits. */
export function float32ToBfloat16Bits(value: number): number {
  scratch[0] = value;
  return bfloat16FromFloat32Bits(scratchBits[0] as number);
}

export function bfloat16BitsToFloat32(bits: number): number {
  scratchBits[0] = (bits & 0xffff) << 16;
  return scratch[0] as number;
}

/** float32 values → bfloat16 bits. */
export function encodeBfloat16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i += 1) out[i] = bfloat16FromFloat32Bits(bits[i] as number);
  return out;
}
