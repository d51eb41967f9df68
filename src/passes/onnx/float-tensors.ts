import { TensorProto_DataType as T, type TensorProto } from "onnx-buf";
import { EdgeforgeError } from "../../core/errors.js";
import { setStreamedRawData, streamedRawData } from "../../formats/onnx/streamed-raw-data.js";
import { getTensorData } from "../../formats/onnx/tensor-data.js";
import { convertToFloat16, float16Max } from "../../kernels/float16.js";
import { convertStreamedToFloat16, streamedMaxAbs } from "./streamed-weights.js";

/** A float32 tensor's values (a view over the model bytes when aligned). */
export function readFloat32(tensor: TensorProto): Float32Array {
  if (tensor.dataType !== T.FLOAT) {
    throw new EdgeforgeError("INTERNAL", `tensor "${tensor.name}" is not float32`, { details: { dataType: tensor.dataType } });
  }
  return getTensorData(tensor) as Float32Array;
}

/**
 * A float32 tensor's values for one use: a streamed tensor (readPassInput's `streamWeights`) is read into
 * a fresh buffer and stays streamed, so the model does not keep its values once the caller drops them.
 */
export function readFloat32Unkept(tensor: TensorProto): Float32Array {
  const streamed = tensor.dataType === T.FLOAT ? streamedRawData(tensor) : undefined;
  if (!streamed) return readFloat32(tensor);
  const bytes = streamed.readAll();
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

let scratch = new ArrayBuffer(0);
let scratchInUse = false;

/**
 * Run `use` on a float32 tensor's values when `use` keeps no reference to them (quantizing a weight).
 * A streamed tensor (readPassInput's `streamWeights`) is read into a fresh buffer the model does not keep.
 * Raw bytes at an unaligned offset in the model file must be copied for a Float32Array view; they go
 * to one reused scratch buffer instead of fresh memory, whose page faults cost more than the copy.
 */
export function withFloat32<T>(tensor: TensorProto, use: (values: Float32Array) => T): T {
  // A streamed tensor is read for this use only and stays streamed.
  if (tensor.dataType === T.FLOAT && streamedRawData(tensor)) return use(readFloat32Unkept(tensor));
  const raw = tensor.rawData;
  if (scratchInUse || tensor.dataType !== T.FLOAT || raw.byteLength === 0 || raw.byteOffset % 4 === 0) return use(readFloat32(tensor));
  if (scratch.byteLength < raw.byteLength) scratch = new ArrayBuffer(raw.byteLength);
  new Uint8Array(scratch, 0, raw.byteLength).set(raw);
  scratchInUse = true;
  try {
    return use(new Float32Array(scratch, 0, raw.byteLength / 4));
  } finally {
    scratchInUse = false;
  }
}

export interface Float16Counts {
  clampedCount: number;
  flushedCount: number;
}

/** Rewrite a float32 TensorProto in place as float16 (raw_data; streamed stays streamed), returning what had to be clamped. */
export function convertTensorToFloat16(tensor: TensorProto): Float16Counts {
  const streamed = tensor.dataType === T.FLOAT ? streamedRawData(tensor) : undefined;
  if (streamed) {
    const { data, clampedCount, flushedCount } = convertStreamedToFloat16(streamed);
    tensor.dataType = T.FLOAT16;
    tensor.floatData = [];
    setStreamedRawData(tensor, data);
    return { clampedCount, flushedCount };
  }
  const { bits, clampedCount, flushedCount } = convertToFloat16(readFloat32(tensor));
  tensor.dataType = T.FLOAT16;
  tensor.floatData = [];
  tensor.rawData = new Uint8Array(bits.buffer as ArrayBuffer, bits.byteOffset, bits.byteLength);
  return { clampedCount, flushedCount };
}

/** Whether a float32 tensor holds a value beyond the float16 range (streamed tensors read through a reused buffer). */
export function exceedsFloat16(tensor: TensorProto): boolean {
  const streamed = streamedRawData(tensor);
  if (streamed) return streamedMaxAbs(streamed) > float16Max;
  return readFloat32(tensor).some((v) => Math.abs(v) > float16Max);
}

export function tensorDims(tensor: TensorProto): number[] {
  return tensor.dims.map(Number);
}
