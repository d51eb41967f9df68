import { create } from "@bufbuild/protobuf";
import { TensorProtoSchema, TensorProto_DataType } from "onnx-buf";
import { describe, expect, it } from "vitest";
import { dtypeCatalog, type Dtype } from "../../core/dtypes.js";
import {
  checkTensorStorage,
  createTensorProto,
  dtypeToOnnxDataType,
  getTensorData,
  onnxDataTypeToDtype,
  tensorByteLength,
  tensorElementCount,
  toCoreTensor,
} from "./tensor-data.js";

describe("ONNX data types ↔ core dtypes", () => {
  it("round-trips every core dtype", () => {
    for (const dtype of Object.keys(dtypeCatalog) as Dtype[]) {
      expect(onnxDataTypeToDtype(dtypeToOnnxDataType(dtype))).toBe(dtype);
    }
    expect(onnxDataTypeToDtype(TensorProto_DataType.FLOAT16)).toBe("float16");
    expect(onnxDataTypeToDtype(999)).toBeUndefined();
  });
});

describe("getTensorData", () => {
  it("views aligned raw_data without copying", () => {
    const values = Float32Array.of(1, 2, 3, 4, 5, 6);
    const tensor = createTensorProto("w", "float32", [2, 3], values);
    const view = getTensorData(tensor);
    expect(view).toBeInstanceOf(Float32Array);
    expect(view.buffer).toBe(values.buffer);
    expect(Array.from(view as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("copies once when raw_data sits at an unaligned offset (as inside a protobuf)", () => {
    const backing = new Uint8Array(1 + 8);
    backing.set(new Uint8Array(Float32Array.of(1.5, -2).buffer), 1);
    const tensor = create(TensorProtoSchema, { name: "w", dataType: TensorProto_DataType.FLOAT, dims: [2n], rawData: backing.subarray(1) });
    const values = getTensorData(tensor) as Float32Array;
    expect(Array.from(values)).toEqual([1.5, -2]);
    expect(values.byteOffset % 4).toBe(0);
  });

  it("reads float16 as raw bits and int64 as bigint", () => {
    const half = createTensorProto("h", "float16", [2], Uint16Array.of(0x3c00, 0xc000));
    expect(Array.from(getTensorData(half) as Uint16Array)).toEqual([0x3c00, 0xc000]);
    const ints = createTensorProto("i", "int64", [2], BigInt64Array.of(-1n, 7n));
    expect(toCoreTensor(ints)).toMatchObject({ dtype: "int64", dims: [2] });
    expect(Array.from(getTensorData(ints) as BigInt64Array)).toEqual([-1n, 7n]);
  });

  it("converts typed fields (float_data, int64_data, int32_data holding float16 bits)", () => {
    const f = create(TensorProtoSchema, { dataType: TensorProto_DataType.FLOAT, dims: [3n], floatData: [1, 2, 3] });
    expect(Array.from(getTensorData(f) as Float32Array)).toEqual([1, 2, 3]);
    const i = create(TensorProtoSchema, { dataType: TensorProto_DataType.INT64, dims: [2n], int64Data: [5n, -6n] });
    expect(Array.from(getTensorData(i) as BigInt64Array)).toEqual([5n, -6n]);
    const h = create(TensorProtoSchema, { dataType: TensorProto_DataType.FLOAT16, dims: [1n], int32Data: [0x3c00] });
    const bits = getTensorData(h);
    expect(bits).toBeInstanceOf(Uint16Array);
    expect(Array.from(bits as Uint16Array)).toEqual([0x3c00]);
    const scalar = create(TensorProtoSchema, { dataType: TensorProto_DataType.FLOAT, floatData: [4] });
    expect(Array.from(getTensorData(scalar) as Float32Array)).toEqual([4]);
  });

  it("refuses data that disagrees with the dims, with CORRUPT_MODEL", () => {
    const short = create(TensorProtoSchema, { name: "w", dataType: TensorProto_DataType.FLOAT, dims: [4n], rawData: new Uint8Array(12) });
    expect(() => getTensorData(short)).toThrow(expect.objectContaining({ code: "CORRUPT_MODEL" }));
    const typed = create(TensorProtoSchema, { name: "w", dataType: TensorProto_DataType.FLOAT, dims: [4n], floatData: [1] });
    expect(() => checkTensorStorage(typed)).toThrow(expect.objectContaining({ code: "CORRUPT_MODEL" }));
    const negative = create(TensorProtoSchema, { name: "w", dataType: TensorProto_DataType.FLOAT, dims: [-1n] });
    expect(() => tensorElementCount(negative)).toThrow(expect.objectContaining({ code: "CORRUPT_MODEL" }));
    const huge = create(TensorProtoSchema, { name: "w", dataType: TensorProto_DataType.FLOAT, dims: [1n << 40n, 1n << 40n] });
    expect(() => tensorElementCount(huge)).toThrow(expect.objectContaining({ code: "LIMIT_EXCEEDED" }));
  });

  it("packs sub-byte types and counts their bytes rounded up", () => {
    const int4 = create(TensorProtoSchema, { dataType: TensorProto_DataType.INT4, dims: [3n] });
    expect(tensorByteLength(int4)).toBe(2);
  });

  it("createTensorProto refuses a data length that does not match the dims", () => {
    expect(() => createTensorProto("w", "float32", [2, 2], new Float32Array(3))).toThrow(expect.objectContaining({ code: "INVALID_SHAPE" }));
  });
});
