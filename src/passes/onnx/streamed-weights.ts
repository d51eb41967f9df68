import { chunkBytesFor, withChunkBuffer, type StreamedBytes } from "../../formats/onnx/streamed-raw-data.js";
import type { QuantizedType } from "../../kernels/linear-quantization.js";
import { ChunkedWeightQuantizer, type WeightQuantizationOptions } from "../../kernels/weight-quantization.js";

export interface StreamedQuantizedWeight {
  scales: Float32Array;
  zeroPoints: Int8Array | Uint8Array;
  /** The 8-bit values, computed from the float32 bytes again while the output is written. */
  data: StreamedBytes;
}

function float32View(chunk: Uint8Array<ArrayBuffer>): Float32Array {
  return new Float32Array(chunk.buffer, chunk.byteOffset, chunk.byteLength / 4);
}

function int8View(type: QuantizedType, buffer: Uint8Array<ArrayBuffer>, length: number): Int8Array | Uint8Array {
  return type === "int8" ? new Int8Array(buffer.buffer, buffer.byteOffset, length) : buffer.subarray(0, length);
}

/**
 * 8-bit quantization of a float32 weight that is not in memory, per tensor or per column of a
 * row-major [rows, `columns`] matrix: one read of its bytes now for the ranges, one more when the
 * output is written, each through a reused buffer. Results equal quantizePerTensor/quantizePerChannel's.
 */
export function quantizeStreamedWeight(source: StreamedBytes, options: WeightQuantizationOptions, columns?: number): StreamedQuantizedWeight {
  const rowBytes = 4 * (columns ?? 1);
  const quantizer = new ChunkedWeightQuantizer(options, columns);
  source.streamSync((chunk) => quantizer.observe(float32View(chunk)), { multipleOfBytes: rowBytes });
  const { scales, zeroPoints } = quantizer.finish();
  const byteLength = source.byteLength / 4;
  const streamQuantized = (sink: (chunk: Uint8Array<ArrayBuffer>) => void | Promise<void>, target: Uint8Array<ArrayBuffer>) => async (chunk: Uint8Array<ArrayBuffer>) => {
    const values = float32View(chunk);
    quantizer.quantize(values, int8View(options.type, target, values.length));
    await sink(target.subarray(0, values.length));
  };
  const data: StreamedBytes = {
    byteLength,
    stream: (sink, streamOptions = {}) =>
      withChunkBuffer(chunkBytesFor(rowBytes) / 4, (target) =>
        source.stream(streamQuantized(sink, target), { multipleOfBytes: rowBytes, ...(streamOptions.signal ? { signal: streamOptions.signal } : {}) }),
      ),
    streamSync: (sink) =>
      withChunkBuffer(chunkBytesFor(rowBytes) / 4, (target) =>
        source.streamSync((chunk) => {
          const values = float32View(chunk);
          quantizer.quantize(values, int8View(options.type, target, values.length));
          sink(target.subarray(0, values.length));
        }, { multipleOfBytes: rowBytes }),
      ),
    readAll() {
      const out = new Uint8Array(byteLength);
      let at = 0;
      data.streamSync((chunk) => {
        out.set(chunk, at);
        at += chunk.byteLength;
      });
      return out;
    },
  };
  return { scales, zeroPoints, data };
}
