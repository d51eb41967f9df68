import {
  computeQuantizationParams,
  findMinMax,
  quantizeLinearRange,
  quantizedRange,
  type QuantizationParams,
  type QuantizedTensor,
  type QuantizedType,
  type ScaleOptions,
} from "./linear-quantization.js";
import { findMinMaxSimd, quantizeColumnsSimd, quantizeLinearSimd } from "./simd-quantize.js";

/** `simd: false` forces the scalar loops (the benchmark's baseline; results are identical). */
export interface WeightQuantizationOptions extends ScaleOptions {
  simd?: boolean;
}

function allocate(type: QuantizedType, length: number): Int8Array | Uint8Array {
  return type === "int8" ? new Int8Array(length) : new Uint8Array(length);
}

function quantizeSpan(data: Float32Array, target: Int8Array | Uint8Array, params: QuantizationParams, qMin: number, qMax: number, simd: boolean): void {
  const done = simd ? quantizeLinearSimd(data, target, params, qMin, qMax) : 0;
  quantizeLinearRange(data, target, params, qMin, qMax, done, data.length);
}

/** Per-tensor quantization of a weight: range from its own min/max. */
export function quantizePerTensor(data: Float32Array, options: WeightQuantizationOptions): QuantizedTensor {
  const simd = options.simd ?? true;
  const range = (simd ? findMinMaxSimd(data) : undefined) ?? findMinMax(data);
  const params = computeQuantizationParams(range, options);
  const { qMin, qMax } = quantizedRange(options);
  const out = allocate(options.type, data.length);
  quantizeSpan(data, out, params, qMin, qMax, simd);
  const zeroPoints = allocate(options.type, 1);
  zeroPoints[0] = params.zeroPoint;
  return { data: out, scales: Float32Array.of(params.scale), zeroPoints, axis: undefined };
}

/**
 * Per-channel quantization along `axis` of a row-major tensor with `dims`: one scale and zero
 * point per index of that axis (Conv weights: axis 0; MatMul B [K, N]: axis 1).
 */
export function quantizePerChannel(data: Float32Array, dims: readonly number[], axis: number, options: WeightQuantizationOptions): QuantizedTensor {
  const simd = options.simd ?? true;
  const channels = dims[axis] ?? 1;
  let inner = 1;
  for (let d = axis + 1; d < dims.length; d++) inner *= dims[d]!;
  const outer = channels === 0 ? 0 : data.length / (channels * inner);
  const { qMin, qMax } = quantizedRange(options);
  const mins = new Float64Array(channels).fill(Infinity);
  const maxs = new Float64Array(channels).fill(-Infinity);
  for (let o = 0, i = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++, i += inner) {
      if (inner === 1) {
        const v = data[i]!;
        if (v < mins[c]!) mins[c] = v;
        if (v > maxs[c]!) maxs[c] = v;
        continue;
      }
      const span = data.subarray(i, i + inner);
      const range = (inner >= 64 && simd ? findMinMaxSimd(span) : undefined) ?? findMinMax(span);
      if (range.min < mins[c]!) mins[c] = range.min;
      if (range.max > maxs[c]!) maxs[c] = range.max;
    }
  }
  const out = allocate(options.type, data.length);
  const scales = new Float32Array(channels);
  const zeroPoints = allocate(options.type, channels);
  const params: QuantizationParams[] = [];
  for (let c = 0; c < channels; c++) {
    const empty = mins[c] === Infinity;
    const p = computeQuantizationParams({ min: empty ? 0 : mins[c]!, max: empty ? 0 : maxs[c]! }, options);
    params.push(p);
    scales[c] = p.scale;
    zeroPoints[c] = p.zeroPoint;
  }
  if (inner === 1 && simd && quantizeColumnsSimd(data, out, outer, channels, scales, Int32Array.from(zeroPoints), qMin, qMax)) {
    return { data: out, scales, zeroPoints, axis };
  }
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      const span = data.subarray(base, base + inner);
      quantizeSpan(span, out.subarray(base, base + inner), params[c]!, qMin, qMax, simd && inner >= 64);
    }
  }
  return { data: out, scales, zeroPoints, axis };
}
