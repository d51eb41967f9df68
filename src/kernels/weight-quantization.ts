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

/**
 * Quantizes a weight that arrives in chunks (a file streamed through one reused buffer): `observe`
 * every chunk, `finish`, then `quantize` every chunk again. Per tensor (`columns` undefined) or one
 * scale per column of a row-major [rows, columns] matrix (chunks hold whole rows). The in-memory
 * quantizers below are this with one chunk, so streamed and in-memory results are identical.
 */
export class ChunkedWeightQuantizer {
  private readonly simd: boolean;
  private readonly mins: Float64Array;
  private readonly maxs: Float64Array;
  private readonly qMin: number;
  private readonly qMax: number;
  private params: QuantizationParams[] = [];
  private zeroPoints32 = new Int32Array(0);
  private result: { scales: Float32Array; zeroPoints: Int8Array | Uint8Array } | undefined;

  constructor(private readonly options: WeightQuantizationOptions, private readonly columns?: number) {
    this.simd = options.simd ?? true;
    this.mins = new Float64Array(columns ?? 1).fill(Infinity);
    this.maxs = new Float64Array(columns ?? 1).fill(-Infinity);
    ({ qMin: this.qMin, qMax: this.qMax } = quantizedRange(options));
  }

  observe(chunk: Float32Array): void {
    const { mins, maxs } = this;
    if (this.columns === undefined) {
      // An empty or all-NaN chunk reports 0..0; harmless, as every range is widened to include 0.
      const range = (this.simd ? findMinMaxSimd(chunk) : undefined) ?? findMinMax(chunk);
      if (range.min < mins[0]!) mins[0] = range.min;
      if (range.max > maxs[0]!) maxs[0] = range.max;
      return;
    }
    const columns = this.columns;
    for (let i = 0, c = 0; i < chunk.length; i++) {
      const v = chunk[i]!;
      if (v < mins[c]!) mins[c] = v;
      if (v > maxs[c]!) maxs[c] = v;
      if (++c === columns) c = 0;
    }
  }

  /** Scales and zero points from the ranges observed (one per column, or one). */
  finish(): { scales: Float32Array; zeroPoints: Int8Array | Uint8Array } {
    const channels = this.mins.length;
    const scales = new Float32Array(channels);
    const zeroPoints = allocate(this.options.type, channels);
    this.params = [];
    for (let c = 0; c < channels; c++) {
      const empty = this.mins[c] === Infinity;
      const p = computeQuantizationParams({ min: empty ? 0 : this.mins[c]!, max: empty ? 0 : this.maxs[c]! }, this.options);
      this.params.push(p);
      scales[c] = p.scale;
      zeroPoints[c] = p.zeroPoint;
    }
    this.zeroPoints32 = Int32Array.from(zeroPoints);
    this.result = { scales, zeroPoints };
    return this.result;
  }

  /** Quantize a chunk (after `finish`) into `target` of the same length. */
  quantize(chunk: Float32Array, target: Int8Array | Uint8Array): void {
    const { qMin, qMax, simd, params, columns } = this;
    if (!this.result) throw new Error("ChunkedWeightQuantizer.quantize before finish");
    if (columns === undefined) {
      quantizeSpan(chunk, target, params[0]!, qMin, qMax, simd);
      return;
    }
    const rows = chunk.length / columns;
    if (simd && quantizeColumnsSimd(chunk, target, rows, columns, this.result.scales, this.zeroPoints32, qMin, qMax)) return;
    for (let i = 0, c = 0; i < chunk.length; i++) {
      quantizeLinearRange(chunk, target, params[c]!, qMin, qMax, i, i + 1);
      if (++c === columns) c = 0;
    }
  }
}

/** Per-tensor quantization of a weight: range from its own min/max; into `into` (as long as `data`, of the type's array) when given. */
export function quantizePerTensor(data: Float32Array, options: WeightQuantizationOptions, into?: Int8Array | Uint8Array): QuantizedTensor {
  const quantizer = new ChunkedWeightQuantizer(options);
  quantizer.observe(data);
  const { scales, zeroPoints } = quantizer.finish();
  const out = into ?? allocate(options.type, data.length);
  quantizer.quantize(data, out);
  return { data: out, scales, zeroPoints, axis: undefined };
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
  if (inner === 1) {
    const quantizer = new ChunkedWeightQuantizer(options, channels);
    quantizer.observe(data);
    const { scales, zeroPoints } = quantizer.finish();
    const out = allocate(options.type, data.length);
    quantizer.quantize(data, out);
    return { data: out, scales, zeroPoints, axis };
  }
  const { qMin, qMax } = quantizedRange(options);
  const mins = new Float64Array(channels).fill(Infinity);
  const maxs = new Float64Array(channels).fill(-Infinity);
  for (let o = 0, i = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++, i += inner) {
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
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      const span = data.subarray(base, base + inner);
      quantizeSpan(span, out.subarray(base, base + inner), params[c]!, qMin, qMax, simd && inner >= 64);
    }
  }
  return { data: out, scales, zeroPoints, axis };
}
