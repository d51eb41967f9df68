/** IEEE 754 binary16 conversion. float16 values travel as Uint16Array raw bits (see core/tensor.ts). */

/** Largest finite float16, 65504. */
export const float16Max = 65504;
const float16MaxBits = 0x7bff;

export interface Float16Conversion {
  bits: Uint16Array;
  /** Finite values beyond ±65504 that were clamped to ±65504 (instead of becoming ±Infinity). */
  clampedCount: number;
  /** Non-zero values too small for float16 that became ±0. */
  flushedCount: number;
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/**
 * Round-to-nearest-even float32 → float16 bits, over a range of `source` into `target`. Overflow
 * clamps to ±65504 (counted) so a large weight stays large instead of becoming Infinity.
 */
export function convertRangeToFloat16(
  source: Float32Array,
  target: Uint16Array,
  start: number,
  end: number,
): { clampedCount: number; flushedCount: number } {
  const sourceBits = new Uint32Array(source.buffer, source.byteOffset, source.length);
  let clampedCount = 0;
  let flushedCount = 0;
  for (let i = start; i < end; i++) {
    const x = sourceBits[i]!;
    const sign = (x >>> 16) & 0x8000;
    const exponent = (x >>> 23) & 0xff;
    const mantissa = x & 0x7fffff;
    if (exponent === 0xff) {
      target[i] = sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
      continue;
    }
    const halfExponent = exponent - 112;
    if (halfExponent >= 0x1f) {
      target[i] = sign | float16MaxBits;
      clampedCount++;
      continue;
    }
    if (halfExponent <= 0) {
      if (halfExponent < -10) {
        if ((x & 0x7fffffff) !== 0) flushedCount++;
        target[i] = sign;
        continue;
      }
      const full = mantissa | 0x800000;
      const shift = 14 - halfExponent;
      let half = full >>> shift;
      const remainder = full & ((1 << shift) - 1);
      const halfway = 1 << (shift - 1);
      if (remainder > halfway || (remainder === halfway && (half & 1) === 1)) half++;
      if (half === 0) flushedCount++;
      target[i] = sign | half;
      continue;
    }
    let half = (halfExponent << 10) | (mantissa >>> 13);
    const remainder = mantissa & 0x1fff;
    if (remainder > 0x1000 || (remainder === 0x1000 && (half & 1) === 1)) half++;
    if (half >= 0x7c00) {
      half = float16MaxBits;
      clampedCount++;
    }
    target[i] = sign | half;
  }
  return { clampedCount, flushedCount };
}

/** Convert a whole float32 array to float16 bits. */
export function convertToFloat16(source: Float32Array): Float16Conversion {
  const bits = new Uint16Array(source.length);
  const counts = convertRangeToFloat16(source, bits, 0, source.length);
  return { bits, ...counts };
}

/** One float32 value → float16 bits (clamping like convertToFloat16). */
export function float32ToFloat16Bits(value: number): number {
  scratch[0] = value;
  const out = new Uint16Array(1);
  convertRangeToFloat16(scratch, out, 0, 1);
  return out[0]!;
}

/** float16 bits → float32 value. */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : Number.NaN;
  scratchBits[0] = ((bits & 0x8000) << 16) | ((exponent + 112) << 23) | (mantissa << 13);
  return scratch[0]!;
}

/** Expand float16 bits to float32 values. */
export function convertFromFloat16(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = float16BitsToFloat32(bits[i]!);
  return out;
}
