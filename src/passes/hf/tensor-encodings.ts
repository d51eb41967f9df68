import { EdgeforgeError } from "../../core/errors.js";
import { encodeBfloat16 } from "../../kernels/bfloat16.js";
import { convertFromFloat16, convertToFloat16, float16Max, float32ToFloat16Bits } from "../../kernels/float16.js";

/** Stored element types the converters read and write. */
export type FloatEncoding = "F32" | "F16" | "BF16";

function view<T extends Uint16Array | Float32Array>(bytes: Uint8Array, make: (buffer: ArrayBuffer, offset: number, length: number) => T, width: number): T {
  const aligned = bytes.byteOffset % width === 0 ? bytes : bytes.slice();
  return make(aligned.buffer as ArrayBuffer, aligned.byteOffset, aligned.byteLength / width);
}

/** Stored little-endian F32/F16/BF16 bytes → float32 values. */
export function decodeFloats(bytes: Uint8Array, encoding: FloatEncoding): Float32Array {
  if (encoding === "F32") return view(bytes, (b, o, n) => new Float32Array(b, o, n), 4);
  const bits = view(bytes, (b, o, n) => new Uint16Array(b, o, n), 2);
  if (encoding === "F16") return convertFromFloat16(bits);
  const out = new Float32Array(bits.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i += 1) outBits[i] = (bits[i] as number) << 16;
  return out;
}

export interface EncodedTensor {
  bytes: Uint8Array;
  /** float16 values beyond ±65504 clamped to ±65504 (F16 and the Q8_0 block scales). */
  clampedCount: number;
}

/**
 * Q8_0 blocks (ggml-common.h `block_q8_0`): per 32 consecutive values, d = max|x| / 127 stored as
 * float16, then 32 int8 q = round(x / d), rounding half away from zero. Float32 arithmetic as
 * gguf-py's `Q8_0.quantize_blocks` does (d and 1/d rounded to float32 before use).
 */
export function encodeQ8_0(values: Float32Array): EncodedTensor {
  if (values.length % 32 !== 0) {
    throw new EdgeforgeError("INTERNAL", `Q8_0 needs a multiple of 32 values, got ${values.length}`, { hint: "callers fall back to F16 for such tensors" });
  }
  const blocks = values.length / 32;
  const bytes = new Uint8Array(blocks * 34);
  const view = new DataView(bytes.buffer);
  let clampedCount = 0;
  for (let block = 0; block < blocks; block += 1) {
    const start = block * 32;
    let amax = 0;
    for (let i = 0; i < 32; i += 1) amax = Math.max(amax, Math.abs(values[start + i] as number));
    const d = Math.fround(amax / 127);
    const inverse = d === 0 ? 0 : Math.fround(1 / d);
    const out = block * 34;
    if (d > float16Max) clampedCount += 1;
    view.setUint16(out, float32ToFloat16Bits(d), true);
    for (let i = 0; i < 32; i += 1) {
      const scaled = Math.fround((values[start + i] as number) * inverse);
      const q = Math.sign(scaled) * Math.floor(Math.abs(scaled) + 0.5);
      view.setInt8(out + 2 + i, q);
    }
  }
  return { bytes, clampedCount };
}

/** Encode float32 values as stored GGUF bytes of `type`. */
export function encodeGgufTensor(values: Float32Array, type: "F32" | "F16" | "BF16" | "Q8_0"): EncodedTensor {
  switch (type) {
    case "F32":
      return { bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength), clampedCount: 0 };
    case "F16": {
      const { bits, clampedCount } = convertToFloat16(values);
      return { bytes: new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength), clampedCount };
    }
    case "BF16": {
      const bits = encodeBfloat16(values);
      return { bytes: new Uint8Array(bits.buffer), clampedCount: 0 };
    }
    case "Q8_0":
      return encodeQ8_0(values);
  }
}
