import { create } from "@bufbuild/protobuf";
import { AttributeProtoSchema, AttributeProto_AttributeType } from "onnx-buf";
import { describe, expect, it } from "vitest";
import { model, node, valueInfo } from "../../../test/fixtures/onnx-test-models.js";
import { classifyOnnxArchitecture } from "./classify-architecture.js";
import { inspectOnnxModel } from "./inspect-onnx.js";
import type { OnnxModelFile } from "./read-onnx.js";
import { createTensorProto } from "./tensor-data.js";

/** One self-attention block over X [1, 4, 8]: projections, QKᵀ/√d, Softmax, ·V, output projection. */
function attentionModel(extraInputs: string[] = []): OnnxModelFile {
  const weight = (name: string) => createTensorProto(name, "float32", [8, 8], new Float32Array(64));
  const transpose = node("Transpose", ["K"], ["Kt"]);
  transpose.attribute = [create(AttributeProtoSchema, { name: "perm", type: AttributeProto_AttributeType.INTS, ints: [0n, 2n, 1n] })];
  const m = model(
    [
      node("MatMul", ["X", "Wq"], ["Q"]),
      node("MatMul", ["X", "Wk"], ["K"]),
      node("MatMul", ["X", "Wv"], ["V"]),
      transpose,
      node("MatMul", ["Q", "Kt"], ["S"]),
      node("Div", ["S", "scale"], ["Ss"]),
      node("Softmax", ["Ss"], ["P"]),
      node("MatMul", ["P", "V"], ["A"]),
      node("MatMul", ["A", "Wo"], ["Y"]),
    ],
    {
      inputs: [valueInfo("X", [1, 4, 8]), ...extraInputs.map((name) => valueInfo(name, [1]))],
      outputs: [valueInfo("Y", [1, 4, 8])],
      initializers: [weight("Wq"), weight("Wk"), weight("Wv"), weight("Wo"), createTensorProto("scale", "float32", [], Float32Array.of(2.83))],
    },
  );
  return { model: m, path: "attention.onnx", folder: ".", fileSizeBytes: 0, externalTensors: [], externalDataLoaded: true };
}

/** The same block as int8-static writes it: int8 weights behind DequantizeLinear, Q/DQ pairs around QKᵀ and Softmax. */
function qdqAttentionModel(): OnnxModelFile {
  const weight = (name: string) => createTensorProto(`${name}_q`, "int8", [8, 8], new Int8Array(64));
  const scale = createTensorProto("s", "float32", [], Float32Array.of(0.02));
  const zero = createTensorProto("z", "uint8", [], Uint8Array.of(128));
  const wZero = createTensorProto("wz", "int8", [], Int8Array.of(0));
  const transpose = node("Transpose", ["K"], ["Kt"]);
  transpose.attribute = [create(AttributeProtoSchema, { name: "perm", type: AttributeProto_AttributeType.INTS, ints: [0n, 2n, 1n] })];
  const dequantizeWeight = (name: string) => node("DequantizeLinear", [`${name}_q`, "s", "wz"], [name]);
  const qdq = (from: string, to: string) => [node("QuantizeLinear", [from, "s", "z"], [`${from}_q`]), node("DequantizeLinear", [`${from}_q`, "s", "z"], [to])];
  const m = model(
    [
      ...["Wq", "Wk", "Wv", "Wo"].map(dequantizeWeight),
      node("MatMul", ["X", "Wq"], ["Q"]),
      node("MatMul", ["X", "Wk"], ["K"]),
      node("MatMul", ["X", "Wv"], ["V"]),
      transpose,
      node("MatMul", ["Q", "Kt"], ["S"]),
      ...qdq("S", "Sd"),
      node("Div", ["Sd", "scale"], ["Ss"]),
      node("Softmax", ["Ss"], ["P"]),
      ...qdq("P", "Pd"),
      node("MatMul", ["Pd", "V"], ["A"]),
      node("MatMul", ["A", "Wo"], ["Y"]),
    ],
    {
      inputs: [valueInfo("X", [1, 4, 8])],
      outputs: [valueInfo("Y", [1, 4, 8])],
      initializers: [weight("Wq"), weight("Wk"), weight("Wv"), weight("Wo"), scale, zero, wZero, createTensorProto("scale", "float32", [], Float32Array.of(2.83))],
      opsets: [["", 13]],
    },
  );
  return { model: m, path: "attention_int8.onnx", folder: ".", fileSizeBytes: 0, externalTensors: [], externalDataLoaded: true };
}

describe("architecture class", () => {
  it("reads a QDQ model's int8 weights through DequantizeLinear: same class, attention found, weights not counted as activations", () => {
    const float = inspectOnnxModel(attentionModel());
    const int8 = inspectOnnxModel(qdqAttentionModel());
    expect(int8.architecture).toBe("transformer-encoder");
    expect(int8.architectureEvidence[0]).toMatch(/^1 self-attention/);
    expect(int8.quantizable).toEqual([{ op: "MatMul", nodes: 6, nodesWithConstantWeights: 4, nodesWithQuantizedWeights: 4, weightElements: 256, quantizedWeightElements: 256 }]);
    expect(int8.macs.total).toBe(float.macs.total);
    // The dequantized 8×8 weights (256 B each as float) are weights; only the activations' Q/DQ copies add up.
    expect(int8.activations.peakBytes).toBeLessThan(float.activations.peakBytes + 4 * 8 * 4 * 2);
  });

  it("finds the attention pattern and calls an attention stack without KV cache an encoder", () => {
    const x = inspectOnnxModel(attentionModel());
    expect(x.architecture).toBe("transformer-encoder");
    expect(x.architectureEvidence[0]).toMatch(/^1 self-attention/);
    // 4 projections of 4×8·8 MACs each, plus QKᵀ (4×4·8) and P·V (4×8·4).
    expect(x.macs.total).toBe(4 * (4 * 8 * 8) + 4 * 4 * 8 + 4 * 8 * 4);
    expect(x.quantizable).toEqual([{ op: "MatMul", nodes: 6, nodesWithConstantWeights: 4, nodesWithQuantizedWeights: 0, weightElements: 256, quantizedWeightElements: 0 }]);
  });

  it("calls it a decoder when a KV-cache input is present", () => {
    const x = inspectOnnxModel(attentionModel(["past_key_values.0.key"]));
    expect(x.architecture).toBe("transformer-decoder");
    expect(x.architectureEvidence.join(" ")).toContain("past_key_values.0.key");
  });

  it("ranks recurrent ops first and falls back to other", () => {
    const base = { attentionPatterns: 0, inputNames: [], outputNames: [] };
    expect(classifyOnnxArchitecture({ ...base, ops: new Map([["GRU", 1], ["Conv", 9]]), weightElementsByOp: new Map([["Conv", 1000]]) }).architecture).toBe("rnn-lstm");
    expect(classifyOnnxArchitecture({ ...base, ops: new Map([["Gemm", 3]]), weightElementsByOp: new Map([["Gemm", 1000]]) }).architecture).toBe("other");
    expect(classifyOnnxArchitecture({ ...base, ops: new Map([["Conv", 3]]), weightElementsByOp: new Map([["Conv", 10]]) }).architecture).toBe("cnn");
  });
});
