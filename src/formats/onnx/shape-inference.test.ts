import { create } from "@bufbuild/protobuf";
import { AttributeProtoSchema, AttributeProto_AttributeType, NodeProtoSchema, type NodeProto } from "onnx-buf";
import { describe, expect, it } from "vitest";
import { countNodeMacs } from "./count-macs.js";
import { inferNodeOutputs } from "./shape-inference.js";
import type { ValueFacts } from "./value-facts.js";

type Attr = number | number[] | string;

function op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, outputs = ["out"]): NodeProto {
  const attribute = Object.entries(attrs).map(([name, value]) =>
    typeof value === "number"
      ? create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(value) })
      : typeof value === "string"
        ? create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.STRING, s: new TextEncoder().encode(value) })
        : create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INTS, ints: value.map(BigInt) }),
  );
  return create(NodeProtoSchema, { opType, input: inputs, output: outputs, attribute });
}

function infer(node: NodeProto, facts: Record<string, ValueFacts>): (ValueFacts | undefined)[] {
  return inferNodeOutputs(node, (name) => facts[name]);
}

const dimsOf = (node: NodeProto, facts: Record<string, ValueFacts>) => infer(node, facts)[0]?.dims;

describe("inferNodeOutputs", () => {
  const x = { dims: [1, 3, 48, 320] };
  const w = { dims: [16, 3, 3, 3] };

  it("Conv with explicit pads, auto_pad and dilations; MACs from the result", () => {
    const conv = op("Conv", ["x", "w"], { strides: [2, 2], pads: [1, 1, 1, 1] });
    const out = dimsOf(conv, { x, w });
    expect(out).toEqual([1, 16, 24, 160]);
    expect(countNodeMacs(conv, [x.dims, w.dims], out)).toBe(16 * 24 * 160 * 27);
    expect(dimsOf(op("Conv", ["x", "w"], { auto_pad: "SAME_UPPER", strides: [2, 2] }), { x, w })).toEqual([1, 16, 24, 160]);
    expect(dimsOf(op("Conv", ["x", "w"], { dilations: [2, 2] }), { x, w })).toEqual([1, 16, 44, 316]);
  });

  it("keeps symbolic batch dims and leaves unknown spatial dims null (MACs unresolved)", () => {
    const conv = op("Conv", ["x", "w"]);
    const out = dimsOf(conv, { x: { dims: ["N", 3, 48, "W"] }, w });
    expect(out).toEqual(["N", 16, 46, null]);
    expect(countNodeMacs(conv, [["N", 3, 48, "W"], w.dims], out)).toBeUndefined();
  });

  it("pooling with ceil_mode, global pooling, ConvTranspose", () => {
    expect(dimsOf(op("MaxPool", ["x"], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }), { x: { dims: [1, 8, 10, 10] } })).toEqual([1, 8, 5, 5]);
    expect(dimsOf(op("GlobalAveragePool", ["x"]), { x })).toEqual([1, 3, 1, 1]);
    const ct = op("ConvTranspose", ["x", "w"], { strides: [2, 2], kernel_shape: [2, 2] });
    expect(dimsOf(ct, { x: { dims: [1, 4, 8, 8] }, w: { dims: [4, 6, 2, 2] } })).toEqual([1, 6, 16, 16]);
    expect(countNodeMacs(ct, [[1, 4, 8, 8], [4, 6, 2, 2]], [1, 6, 16, 16])).toBe(4 * 8 * 8 * 6 * 4);
  });

  it("LSTM, GRU and RNN MACs: steps × directions × gates·hidden × (input + hidden), either layout", () => {
    // X [seq 10, batch 2, input 16], bidirectional, hidden 8.
    const x = [10, 2, 16];
    expect(countNodeMacs(op("LSTM", ["x", "w", "r"]), [x, [2, 32, 16], [2, 32, 8]], undefined)).toBe(10 * 2 * 2 * 32 * (16 + 8));
    expect(countNodeMacs(op("GRU", ["x", "w", "r"]), [x, [1, 24, 16], [1, 24, 8]], undefined)).toBe(10 * 2 * 24 * (16 + 8));
    expect(countNodeMacs(op("RNN", ["x", "w", "r"], { layout: 1 }), [[2, 10, 16], [1, 8, 16], [1, 8, 8]], undefined)).toBe(2 * 10 * 8 * (16 + 8));
    // Unknown sequence length or weights that do not match the op's gate count: unresolved, not guessed.
    expect(countNodeMacs(op("LSTM", ["x", "w", "r"]), [["S", 2, 16], [2, 32, 16], [2, 32, 8]], undefined)).toBeUndefined();
    expect(countNodeMacs(op("LSTM", ["x", "w", "r"]), [x, [1, 24, 16], [1, 24, 8]], undefined)).toBeUndefined();
  });

  it("MatMul broadcasting and 1-D operands, Gemm transposes", () => {
    expect(dimsOf(op("MatMul", ["a", "b"]), { a: { dims: [2, 1, 5, 8] }, b: { dims: [3, 8, 4] } })).toEqual([2, 3, 5, 4]);
    expect(dimsOf(op("MatMul", ["a", "b"]), { a: { dims: [8] }, b: { dims: [8, 4] } })).toEqual([4]);
    expect(dimsOf(op("MatMul", ["a", "b"]), { a: { dims: [5, 8] }, b: { dims: [8] } })).toEqual([5]);
    const gemm = op("Gemm", ["a", "b"], { transB: 1 });
    expect(dimsOf(gemm, { a: { dims: [2, 8] }, b: { dims: [4, 8] } })).toEqual([2, 4]);
    expect(countNodeMacs(gemm, [[2, 8], [4, 8]], [2, 4])).toBe(2 * 4 * 8);
  });

  it("shape arithmetic: Shape → Slice → Concat → Reshape, as PaddleOCR exports do", () => {
    const shape = infer(op("Shape", ["t"]), { t: { dims: [1, 120, 1, 40] } })[0]!;
    expect(shape.values).toEqual([1, 120, 1, 40]);
    const first2 = infer(op("Slice", ["s"], { starts: [0], ends: [2], axes: [0] }), { s: shape })[0]!;
    expect(first2.values).toEqual([1, 120]);
    const target = infer(op("Concat", ["a", "b"], { axis: 0 }), { a: first2, b: { dims: [1], values: [-1] } })[0]!;
    expect(target.values).toEqual([1, 120, -1]);
    expect(dimsOf(op("Reshape", ["t", "shape"]), { t: { dims: [1, 120, 1, 40] }, shape: target })).toEqual([1, 120, 40]);
    expect(dimsOf(op("Reshape", ["t", "shape"]), { t: { dims: [2, 6] }, shape: { dims: [2], values: [0, -1] } })).toEqual([2, 6]);
    // Slice in its input form (opset ≥ 10) with a negative start.
    const sliced = infer(op("Slice", ["s", "st", "en"]), { s: shape, st: { dims: [1], values: [-2] }, en: { dims: [1], values: [100] } })[0]!;
    expect(sliced).toEqual({ dims: [2], values: [1, 40] });
    const gathered = infer(op("Gather", ["s", "i"]), { s: shape, i: { dims: [], values: [1] } })[0]!;
    expect(gathered).toEqual({ dims: [], values: [120] });
  });

  it("Transpose, Flatten, Squeeze/Unsqueeze (attribute and input forms), reductions, Split, Resize, LSTM", () => {
    const t = { dims: [2, 3, 4] };
    expect(dimsOf(op("Transpose", ["t"], { perm: [0, 2, 1] }), { t })).toEqual([2, 4, 3]);
    expect(dimsOf(op("Transpose", ["t"]), { t })).toEqual([4, 3, 2]);
    expect(dimsOf(op("Flatten", ["t"]), { t })).toEqual([2, 12]);
    expect(dimsOf(op("Squeeze", ["t"], { axes: [2] }), { t: { dims: [2, 3, 1] } })).toEqual([2, 3]);
    expect(dimsOf(op("Unsqueeze", ["t", "a"]), { t, a: { dims: [1], values: [0] } })).toEqual([1, 2, 3, 4]);
    expect(dimsOf(op("ReduceMean", ["t"], { axes: [-1] }), { t })).toEqual([2, 3, 1]);
    expect(dimsOf(op("ReduceMean", ["t"], { axes: [1], keepdims: 0 }), { t })).toEqual([2, 4]);
    expect(infer(op("Split", ["t"], { axis: 2 }, ["a", "b"]), { t }).map((f) => f?.dims)).toEqual([[2, 3, 2], [2, 3, 2]]);
    expect(dimsOf(op("Resize", ["x", "", "scales"]), { x: { dims: [1, 3, 8, 8] }, scales: { dims: [4], values: [1, 1, 2, 2] } })).toEqual([1, 3, 16, 16]);
    const lstm = infer(op("LSTM", ["x", "w", "r"], { hidden_size: 64 }, ["y", "h", "c"]), { x: { dims: [10, 1, 32] } });
    expect(lstm.map((f) => f?.dims)).toEqual([[10, 1, 1, 64], [1, 1, 64], [1, 1, 64]]);
  });

  it("broadcasting elementwise ops and unknown ops yield no guesses", () => {
    expect(dimsOf(op("Add", ["a", "b"]), { a: { dims: [1, 3, 1] }, b: { dims: [4, 1, 5] } })).toEqual([4, 3, 5]);
    expect(dimsOf(op("Add", ["a", "b"]), { a: { dims: [3] }, b: {} })).toBeUndefined();
    expect(infer(op("NonZero", ["a"]), { a: { dims: [3] } })).toEqual([]);
  });
});
