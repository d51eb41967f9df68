import { create } from "@bufbuild/protobuf";
import { TensorProtoSchema, TensorProto_DataLocation, TensorProto_DataType, type TensorProto } from "onnx-buf";
import type { Dtype } from "../../core/dtypes.js";
import { EdgeforgeError } from "../../core/errors.js";
import type { Tensor, TensorData } from "../../core/tensor.js";
import { setStreamedRawData, type StreamedBytes } from "./streamed-raw-data.js";

/** ONNX TensorProto.DataType ↔ core Dtype. Types without a core name (FLOAT8E8M0, 2-bit) map to undefined. */
const dataTypeToDtype: Partial<Record<number, Dtype>> = {
  [TensorProto_DataType.FLOAT]: "float32",
  [TensorProto_DataType.UINT8]: "uint8",
  [TensorProto_DataType.INT8]: "int8",
  [TensorProto_DataType.UINT16]: "uint16",
  [TensorProto_DataType.INT16]: "int16",
  [TensorProto_DataType.INT32]: "int32",
  [TensorProto_DataType.INT64]: "int64",
  [TensorProto_DataType.STRING]: "string",
  [TensorProto_DataType.BOOL]: "bool",
  [TensorProto_DataType.FLOAT16]: "float16",
  [TensorProto_DataType.DOUBLE]: "float64",
  [TensorProto_DataType.UINT32]: "uint32",
  [TensorProto_DataType.UINT64]: "uint64",
  [TensorProto_DataType.COMPLEX64]: "complex64",
  [TensorProto_DataType.COMPLEX128]: "complex128",
  [TensorProto_DataType.BFLOAT16]: "bfloat16",
  [TensorProto_DataType.FLOAT8E4M3FN]: "float8e4m3fn",
  [TensorProto_DataType.FLOAT8E4M3FNUZ]: "float8e4m3fnuz",
  [TensorProto_DataType.FLOAT8E5M2]: "float8e5m2",
  [TensorProto_DataType.FLOAT8E5M2FNUZ]: "float8e5m2fnuz",
  [TensorProto_DataType.UINT4]: "uint4",
  [TensorProto_DataType.INT4]: "int4",
  [TensorProto_DataType.FLOAT4E2M1]: "float4e2m1",
};

const dtypeToDataType = Object.fromEntries(
  Object.entries(dataTypeToDtype).map(([code, dtype]) => [dtype, Number(code)]),
) as Record<Dtype, TensorProto_DataType>;

/** Storage bits per element for every ONNX data type (string: 0, stored out of line). */
const dataTypeBits: Partial<Record<number, number>> = {
  [TensorProto_DataType.FLOAT]: 32, [TensorProto_DataType.UINT8]: 8, [TensorProto_DataType.INT8]: 8,
  [TensorProto_DataType.UINT16]: 16, [TensorProto_DataType.INT16]: 16, [TensorProto_DataType.INT32]: 32,
  [TensorProto_DataType.INT64]: 64, [TensorProto_DataType.STRING]: 0, [TensorProto_DataType.BOOL]: 8,
  [TensorProto_DataType.FLOAT16]: 16, [TensorProto_DataType.DOUBLE]: 64, [TensorProto_DataType.UINT32]: 32,
  [TensorProto_DataType.UINT64]: 64, [TensorProto_DataType.COMPLEX64]: 64, [TensorProto_DataType.COMPLEX128]: 128,
  [TensorProto_DataType.BFLOAT16]: 16, [TensorProto_DataType.FLOAT8E4M3FN]: 8, [TensorProto_DataType.FLOAT8E4M3FNUZ]: 8,
  [TensorProto_DataType.FLOAT8E5M2]: 8, [TensorProto_DataType.FLOAT8E5M2FNUZ]: 8, [TensorProto_DataType.UINT4]: 4,
  [TensorProto_DataType.INT4]: 4, [TensorProto_DataType.FLOAT4E2M1]: 4, [TensorProto_DataType.FLOAT8E8M0]: 8,
  [TensorProto_DataType.UINT2]: 2, [TensorProto_DataType.INT2]: 2,
};

export function onnxDataTypeToDtype(dataType: number): Dtype | undefined {
  return dataTypeToDtype[dataType];
}

export function dtypeToOnnxDataType(dtype: Dtype): TensorProto_DataType {
  return dtypeToDataType[dtype];
}

/** Lower-case ONNX spelling ("float", "float16", "int64", …) for reports; "type-N" for unknown codes. */
export function onnxDataTypeName(dataType: number): string {
  return TensorProto_DataType[dataType]?.toLowerCase() ?? `type-${dataType}`;
}

/** Bits per element, or undefined for a data type this version does not know. */
export function onnxDataTypeBits(dataType: number): number | undefined {
  return dataTypeBits[dataType];
}

function corrupt(tensor: TensorProto, message: string, details: Record<string, unknown> = {}): EdgeforgeError {
  return new EdgeforgeError("CORRUPT_MODEL", `tensor "${tensor.name}": ${message}`, {
    hint: "the model file is damaged or was written by a broken exporter; export it again",
    details: { tensor: tensor.name, ...details },
  });
}

/** Product of dims as a safe integer; negative dims are corrupt, products beyond 2^53 are LIMIT_EXCEEDED. */
export function tensorElementCount(tensor: TensorProto): number {
  let count = 1;
  for (const dim of tensor.dims) {
    if (dim < 0n) throw corrupt(tensor, `negative dimension ${dim}`, { dims: tensor.dims.map(String) });
    count *= Number(dim);
  }
  if (!Number.isSafeInteger(count)) {
    throw new EdgeforgeError("LIMIT_EXCEEDED", `tensor "${tensor.name}" declares ${tensor.dims.join("x")} elements`, {
      hint: "the declared shape is beyond what any file can hold; the model is damaged",
      details: { tensor: tensor.name, dims: tensor.dims.map(String) },
    });
  }
  return count;
}

/** Bytes the tensor's values occupy in raw_data / external data (sub-byte types packed, rounded up). */
export function tensorByteLength(tensor: TensorProto): number {
  const bits = dataTypeBits[tensor.dataType];
  if (bits === undefined || tensor.dataType === TensorProto_DataType.UNDEFINED) {
    throw corrupt(tensor, `unknown data type ${tensor.dataType}`, { dataType: tensor.dataType });
  }
  return Math.ceil((tensorElementCount(tensor) * bits) / 8);
}

/** Typed-array class for raw_data of each type; sub-byte and 8-bit float types are raw Uint8Array bytes. */
function rawViewClass(dataType: number) {
  switch (dataType) {
    case TensorProto_DataType.FLOAT:
    case TensorProto_DataType.COMPLEX64:
      return Float32Array;
    case TensorProto_DataType.DOUBLE:
    case TensorProto_DataType.COMPLEX128:
      return Float64Array;
    case TensorProto_DataType.INT8:
      return Int8Array;
    case TensorProto_DataType.INT16:
      return Int16Array;
    case TensorProto_DataType.UINT16:
    case TensorProto_DataType.FLOAT16:
    case TensorProto_DataType.BFLOAT16:
      return Uint16Array;
    case TensorProto_DataType.INT32:
      return Int32Array;
    case TensorProto_DataType.UINT32:
      return Uint32Array;
    case TensorProto_DataType.INT64:
      return BigInt64Array;
    case TensorProto_DataType.UINT64:
      return BigUint64Array;
    default:
      return Uint8Array;
  }
}

function checkCount(tensor: TensorProto, field: string, actual: number, expected: number): void {
  if (actual !== expected) throw corrupt(tensor, `${field} holds ${actual} values but dims need ${expected}`);
}

/** The typed field that carries a tensor's values when raw_data is absent (ONNX's storage rules). */
function typedFieldOf(tensor: TensorProto): { field: string; length: number; perElement: number } {
  switch (tensor.dataType) {
    case TensorProto_DataType.FLOAT:
      return { field: "float_data", length: tensor.floatData.length, perElement: 1 };
    case TensorProto_DataType.COMPLEX64:
      return { field: "float_data", length: tensor.floatData.length, perElement: 2 };
    case TensorProto_DataType.DOUBLE:
      return { field: "double_data", length: tensor.doubleData.length, perElement: 1 };
    case TensorProto_DataType.COMPLEX128:
      return { field: "double_data", length: tensor.doubleData.length, perElement: 2 };
    case TensorProto_DataType.INT64:
      return { field: "int64_data", length: tensor.int64Data.length, perElement: 1 };
    case TensorProto_DataType.UINT64:
    case TensorProto_DataType.UINT32:
      return { field: "uint64_data", length: tensor.uint64Data.length, perElement: 1 };
    case TensorProto_DataType.STRING:
      return { field: "string_data", length: tensor.stringData.length, perElement: 1 };
    default:
      return { field: "int32_data", length: tensor.int32Data.length, perElement: 1 };
  }
}

/**
 * Check that an embedded tensor's stored values match its dims, without touching the values
 * (cheap: for inspection of large models). External tensors are checked by the reader.
 */
export function checkTensorStorage(tensor: TensorProto): void {
  if (tensor.dataLocation === TensorProto_DataLocation.EXTERNAL || tensor.segment) return;
  const count = tensorElementCount(tensor);
  if (tensor.rawData.byteLength > 0 && tensor.dataType !== TensorProto_DataType.STRING) {
    const byteLength = tensorByteLength(tensor);
    if (tensor.rawData.byteLength !== byteLength) {
      throw corrupt(tensor, `raw_data holds ${tensor.rawData.byteLength} bytes but dims ${tensor.dims.join("x")} need ${byteLength}`);
    }
    return;
  }
  tensorByteLength(tensor);
  const typed = typedFieldOf(tensor);
  checkCount(tensor, typed.field, typed.length, count * typed.perElement);
}

/** Bytes a tensor's values occupy as stored (string tensors: the sum of their byte strings). */
export function tensorStoredBytes(tensor: TensorProto): number {
  if (tensor.dataType === TensorProto_DataType.STRING) return tensor.stringData.reduce((sum, s) => sum + s.byteLength, 0);
  return tensorByteLength(tensor);
}

/**
 * A tensor's values as a typed array. raw_data yields a view over the decoded file bytes when its
 * offset is aligned for the element type, otherwise one bulk copy (protobuf places bytes at any
 * offset). Typed fields (float_data, int32_data, …) are converted. float16/bfloat16 come back as
 * Uint16Array raw bits, bool/float8 as Uint8Array, 4-bit types as packed Uint8Array bytes.
 * External tensors must have been loaded (readOnnxModel's loadExternalData) first.
 */
export function getTensorData(tensor: TensorProto): TensorData {
  if (tensor.dataLocation === TensorProto_DataLocation.EXTERNAL) {
    throw new EdgeforgeError("UNSUPPORTED_FEATURE", `tensor "${tensor.name}" lives in external data that was not loaded`, {
      hint: "read the model with loadExternalData: true",
      details: { tensor: tensor.name },
    });
  }
  if (tensor.dataType === TensorProto_DataType.STRING) {
    throw new EdgeforgeError("UNSUPPORTED_FEATURE", `tensor "${tensor.name}" holds strings, not numbers`, {
      details: { tensor: tensor.name },
    });
  }
  if (tensor.segment) {
    throw new EdgeforgeError("UNSUPPORTED_FEATURE", `tensor "${tensor.name}" is a segment of a larger tensor`, {
      details: { tensor: tensor.name },
    });
  }
  checkTensorStorage(tensor);
  if (tensor.rawData.byteLength > 0 || tensorByteLength(tensor) === 0) {
    return viewRawData(tensor.rawData, rawViewClass(tensor.dataType));
  }
  return convertTypedField(tensor);
}

type ViewClass = ReturnType<typeof rawViewClass>;

function viewRawData(raw: Uint8Array<ArrayBuffer>, View: ViewClass): TensorData {
  const size = View.BYTES_PER_ELEMENT;
  const bytes = raw.byteOffset % size === 0 ? raw : new Uint8Array(raw);
  return new View(bytes.buffer, bytes.byteOffset, bytes.byteLength / size);
}

/** Values from the typed field (counts already checked by checkTensorStorage). */
function convertTypedField(tensor: TensorProto): TensorData {
  const type = tensor.dataType;
  switch (type) {
    case TensorProto_DataType.FLOAT:
    case TensorProto_DataType.COMPLEX64:
      return Float32Array.from(tensor.floatData);
    case TensorProto_DataType.DOUBLE:
    case TensorProto_DataType.COMPLEX128:
      return Float64Array.from(tensor.doubleData);
    case TensorProto_DataType.INT64:
      return BigInt64Array.from(tensor.int64Data);
    case TensorProto_DataType.UINT64:
      return BigUint64Array.from(tensor.uint64Data, (v) => BigInt.asUintN(64, v));
    case TensorProto_DataType.UINT32:
      return Uint32Array.from(tensor.uint64Data, (v) => Number(BigInt.asUintN(32, v)));
    case TensorProto_DataType.INT4:
    case TensorProto_DataType.UINT4:
    case TensorProto_DataType.FLOAT4E2M1:
    case TensorProto_DataType.INT2:
    case TensorProto_DataType.UINT2:
      throw new EdgeforgeError("UNSUPPORTED_FEATURE", `tensor "${tensor.name}" stores sub-byte values in int32_data`, {
        hint: "re-export the model with raw_data",
        details: { tensor: tensor.name },
      });
    default: {
      // int32_data carries every remaining type, one element per int32 (float16 as its bits);
      // they all view as 8/16/32-bit integer arrays.
      const View = rawViewClass(type) as typeof Int32Array;
      return View.from(tensor.int32Data);
    }
  }
}

/** The tensor as a core Tensor (dims as numbers, dtype from the catalog). */
export function toCoreTensor(tensor: TensorProto): Tensor {
  const dtype = onnxDataTypeToDtype(tensor.dataType);
  if (!dtype) {
    throw new EdgeforgeError("UNSUPPORTED_FEATURE", `tensor "${tensor.name}" has data type ${onnxDataTypeName(tensor.dataType)}`, {
      details: { tensor: tensor.name, dataType: tensor.dataType },
    });
  }
  return { dtype, dims: tensor.dims.map(Number), data: getTensorData(tensor) };
}

/**
 * A TensorProto holding `data` in raw_data (little-endian, as ONNX requires). The bytes are
 * shared with `data`, not copied; callers must not mutate `data` afterwards. Streamed bytes stay
 * streamed (computed or read when the model is written).
 */
export function createTensorProto(name: string, dtype: Dtype, dims: readonly number[], data: TensorData | StreamedBytes): TensorProto {
  if (dtype === "string") {
    throw new EdgeforgeError("UNSUPPORTED_FEATURE", "string tensors are not supported", { details: { name } });
  }
  const dataType = dtypeToOnnxDataType(dtype);
  const tensor = create(TensorProtoSchema, { name, dataType, dims: dims.map((d) => BigInt(d)) });
  const expected = tensorByteLength(tensor);
  if (data.byteLength !== expected) {
    throw new EdgeforgeError("INVALID_SHAPE", `tensor "${name}": ${data.byteLength} bytes of data for dims ${dims.join("x")} of ${dtype} (${expected} bytes)`, {
      details: { name, dims, dtype, byteLength: data.byteLength },
    });
  }
  if ("stream" in data) setStreamedRawData(tensor, data);
  else tensor.rawData = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
  return tensor;
}
