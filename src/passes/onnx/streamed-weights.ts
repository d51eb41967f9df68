import { chunkBytesFor, withChunkBuffer, type StreamedBytes } from "../../formats/onnx/streamed-raw-data.js";
import { convertRangeToFloat16, type Float16Conversion } from "../../kernels/float16.js";
import { findMinMax } from "../../kernels/linear-quantization.js";
import { findMinMaxSimd } from "../../kernels/simd-quantize.js";
import { ChunkedWeightQuantizer, type WeightQuantizationOptions } from "../../kernels/weight-quantization.js";

function float32View(chunk: Uint8Array<ArrayBuffer>): Float32Array {
  return new Float32Array(chunk.buffer, chunk.byteOffset, chunk.byteLength / 4);
}

/**
 * Streamed bytes computed from a streamed float32 tensor chunk by chunk: `convert` turns a chunk's
 * values into `bytesPerValue` bytes each in a reused buffer. Chunks hold whole rows of `rowValues`.
 */
function mapStreamedFloat32(source: StreamedBytes, bytesPerValue: number, rowValues: number, convert: (values: Float32Array, target: Uint8Array<ArrayBuffer>) => void): StreamedBytes {
  const multipleOfBytes = 4 * rowValues;
  const targetBytes = (chunkBytesFor(multipleOfBytes) / 4) * bytesPerValue;
  const converted = (chunk: Uint8Array<ArrayBuffer>, target: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> => {
    const values = float32View(chunk);
    const out = target.subarray(0, values.length * bytesPerValue);
    convert(values, out);
    return out;
  };
  const mapped: StreamedBytes = {
    byteLength: (source.byteLength / 4) * bytesPerValue,
    stream: (sink, options = {}) =>
      withChunkBuffer(targetBytes, (target) => source.stream((chunk) => sink(converted(chunk, target)), { ...options, multipleOfBytes })),
    streamSync: (sink, options = {}) =>
      withChunkBuffer(targetBytes, (target) => source.streamSync((chunk) => sink(converted(chunk, target)), { ...options, multipleOfBytes })),
    readAll() {
      const out = new Uint8Array(mapped.byteLength);
      let at = 0;
      mapped.streamSync((chunk) => {
        out.set(chunk, at);
        at += chunk.byteLength;
      });
      return out;
    },
  };
  return mapped;
}

export interface StreamedQuantizedWeight {
  scales: Float32Array;
  zeroPoints: Int8Array | Uint8Array;
  /** The 8-bit values, computed from the float32 bytes again while the output is written. */
  data: StreamedBytes;
}

/**
 * 8-bit quantization of a float32 weight that is not in memory, per tensor or per column of a
 * row-major [rows, `columns`] matrix: one read of its bytes now for the ranges, one more when the
 * output is written, each through a reused buffer. Results equal quantizePerTensor/quantizePerChannel's.
 */
export function quantizeStreamedWeight(source: StreamedBytes, options: WeightQuantizationOptions, columns?: number): StreamedQuantizedWeight {
  const quantizer = new ChunkedWeightQuantizer(options, columns);
  source.streamSync((chunk) => quantizer.observe(float32View(chunk)), { multipleOfBytes: 4 * (columns ?? 1) });
  const { scales, zeroPoints } = quantizer.finish();
  const data = mapStreamedFloat32(source, 1, columns ?? 1, (values, target) =>
    quantizer.quantize(values, options.type === "int8" ? new Int8Array(target.buffer, target.byteOffset, values.length) : target),
  );
  return { scales, zeroPoints, data };
}

/** The largest magnitude of a streamed float32 tensor's values (NaN ignored), read through a reused buffer. */
export function streamedMaxAbs(source: StreamedBytes): number {
  let maxAbs = 0;
  source.streamSync((chunk) => {
    const values = float32View(chunk);
    const range = findMinMaxSimd(values) ?? findMinMax(values);
    maxAbs = Math.max(maxAbs, Math.abs(range.min), Math.abs(range.max));
  });
  return maxAbs;
}

/**
 * A streamed float32 tensor as float16 bits: the values are converted once now to count what is
 * clamped or flushed (the pass log reports it before writing), and again while the output is written.
 */
export function convertStreamedToFloat16(source: StreamedBytes): Omit<Float16Conversion, "bits"> & { data: StreamedBytes } {
  const data = mapStreamedFloat32(source, 2, 1, (values, target) => {
    convertRangeToFloat16(values, new Uint16Array(target.buffer, target.byteOffset, values.length), 0, values.length);
  });
  let clampedCount = 0;
  let flushedCount = 0;
  withChunkBuffer(chunkBytesFor(4) / 2, (target) =>
    source.streamSync((chunk) => {
      const values = float32View(chunk);
      const counts = convertRangeToFloat16(values, new Uint16Array(target.buffer, 0, values.length), 0, values.length);
      clampedCount += counts.clampedCount;
      flushedCount += counts.flushedCount;
    }),
  );
  return { clampedCount, flushedCount, data };
}
