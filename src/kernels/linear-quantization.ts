/**
 * Linear (affine) 8-bit quantization as ONNX Runtime does it: q = saturate(roundHalfEven(x / scale) + zeroPoint),
 * with x / scale computed in float32. Scales and zero points follow onnxruntime.quantization's
 * compute_scale_zp: the range always contains 0, symmetric ranges are centred on 0.
 */

export type QuantizedType = "int8" | "uint8";

export interface QuantizationRange {
  min: number;
  max: number;
}

export interface QuantizationParams {
  scale: number;
  zeroPoint: number;
}

export interface ScaleOptions {
  type: QuantizedType;
  symmetric: boolean;
  /** Use 7 bits of range (helps CPUs without VNNI avoid int16 overflow in u8s8 kernels). */
  reduceRange?: boolean;
}

/** The integer range used for a type; symmetric int8 drops -128 so that 0 sits in the middle. */
export function quantizedRange(options: ScaleOptions): { qMin: number; qMax: number } {
  if (options.type === "int8") {
    if (options.reduceRange) return { qMin: -64, qMax: 64 };
    return options.symmetric ? { qMin: -127, qMax: 127 } : { qMin: -128, qMax: 127 };
  }
  return options.reduceRange ? { qMin: 0, qMax: 127 } : { qMin: 0, qMax: 255 };
}

/** Round half to even, like C's nearbyint in the default rounding mode. */
export function roundHalfToEven(value: number): number {
  const rounded = Math.round(value);
  return rounded - value === 0.5 && (rounded & 1) !== 0 ? rounded - 1 : rounded;
}

/** Scale and zero point for a float range. A degenerate range (all zeros) gets scale 1. */
export function computeQuantizationParams(range: QuantizationRange, options: ScaleOptions): QuantizationParams {
  const { qMin, qMax } = quantizedRange(options);
  let min = Math.min(range.min, 0);
  let max = Math.max(range.max, 0);
  if (options.symmetric) {
    const absMax = Math.max(Math.abs(min), Math.abs(max));
    min = -absMax;
    max = absMax;
  }
  let scale = Math.fround((max - min) / (qMax - qMin));
  if (!(scale > 0) || !Number.isFinite(scale)) scale = 1;
  // Symmetric ranges sit on the middle code (0 for int8, 128 for uint8), whatever the float rounding.
  const zeroPoint = options.symmetric
    ? Math.round((qMin + qMax) / 2)
    : Math.min(qMax, Math.max(qMin, roundHalfToEven(qMin - min / scale)));
  return { scale, zeroPoint };
}

export interface MinMax {
  min: number;
  max: number;
}

/** Smallest and largest finite value of a range of elements (non-finite values are ignored). */
export function findMinMax(data: Float32Array, start = 0, end = data.length): MinMax {
  let min = Infinity;
  let max = -Infinity;
  for (let i = start; i < end; i++) {
    const v = data[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === Infinity) return { min: 0, max: 0 };
  return { min, max };
}

/** Quantize `data[start..end)` with one scale / zero point into `target` (Int8Array or Uint8Array). */
export function quantizeLinearRange(
  data: Float32Array,
  target: Int8Array | Uint8Array,
  params: QuantizationParams,
  qMin: number,
  qMax: number,
  start = 0,
  end = data.length,
): void {
  const { scale, zeroPoint } = params;
  for (let i = start; i < end; i++) {
    const scaled = Math.fround(data[i]! / scale);
    let q = roundHalfToEven(scaled) + zeroPoint;
    if (q < qMin) q = qMin;
    else if (q > qMax) q = qMax;
    target[i] = q;
  }
}

export interface QuantizedTensor {
  data: Int8Array | Uint8Array;
  /** One value per channel along `axis`, or one value for per-tensor quantization. */
  scales: Float32Array;
  zeroPoints: Int8Array | Uint8Array;
  /** undefined for per-tensor. */
  axis: number | undefined;
}

/** Reverse of quantization, for tests and error measurement: (q - zeroPoint) * scale. */
export function dequantize(tensor: QuantizedTensor, dims: readonly number[]): Float32Array {
  const out = new Float32Array(tensor.data.length);
  if (tensor.axis === undefined) {
    const scale = tensor.scales[0]!;
    const zeroPoint = tensor.zeroPoints[0]!;
    for (let i = 0; i < out.length; i++) out[i] = (tensor.data[i]! - zeroPoint) * scale;
    return out;
  }
  const channels = dims[tensor.axis] ?? 1;
  let inner = 1;
  for (let d = tensor.axis + 1; d < dims.length; d++) inner *= dims[d]!;
  for (let i = 0; i < out.length; i++) {
    const c = Math.floor(i / inner) % channels;
    out[i] = (tensor.data[i]! - tensor.zeroPoints[c]!) * tensor.scales[c]!;
  }
  return out;
}
