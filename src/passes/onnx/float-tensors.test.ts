import { describe, expect, it } from "vitest";
import { createTensorProto } from "../../formats/onnx/tensor-data.js";
import { readFloat32, withFloat32 } from "./float-tensors.js";

/** A float32 tensor whose raw bytes start at an odd offset, as most do inside a model file. */
function unalignedTensor(name: string, values: number[]) {
  const tensor = createTensorProto(name, "float32", [values.length], Float32Array.from(values));
  const file = new Uint8Array(tensor.rawData.byteLength + 3);
  file.set(tensor.rawData, 3);
  tensor.rawData = file.subarray(3);
  return tensor;
}

describe("withFloat32", () => {
  it("gives the values of unaligned raw bytes (through the scratch buffer), aligned ones as a view", () => {
    const a = unalignedTensor("a", [1.5, -2, 3.25, 1e-7]);
    expect(withFloat32(a, (values) => Array.from(values))).toEqual(Array.from(readFloat32(a)));
    const aligned = createTensorProto("b", "float32", [2], Float32Array.of(4, 5));
    expect(withFloat32(aligned, (values) => values.buffer === aligned.rawData.buffer)).toBe(true);
  });

  it("a nested call does not overwrite the outer values", () => {
    const outer = unalignedTensor("outer", [1, 2, 3]);
    const inner = unalignedTensor("inner", [7, 8, 9]);
    const seen = withFloat32(outer, (values) => {
      const innerValues = withFloat32(inner, (v) => Array.from(v));
      return [Array.from(values), innerValues];
    });
    expect(seen).toEqual([[1, 2, 3], [7, 8, 9]]);
  });
});
