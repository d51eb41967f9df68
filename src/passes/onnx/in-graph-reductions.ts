import type { NodeProto, TensorProto } from "onnx-buf";
import { createTensorProto } from "../../formats/onnx/tensor-data.js";
import type { QuantizationParams } from "../../kernels/linear-quantization.js";
import type { AddedNodes } from "./activation-capture.js";
import { intAttribute, makeNode, type NameAllocator } from "./graph-edit.js";

export type ScalarReduction = "ReduceMin" | "ReduceMax" | "ReduceSumSquare";

/**
 * Builds nodes that reduce activations to scalars inside the runtime. Exposing a whole activation
 * as an output costs a copy into JavaScript (~200 MB per PP-OCRv4 rec sample for its ~260
 * activations, seconds on a VM that faults fresh memory in slowly); a scalar costs nothing.
 * Reductions without axes reduce every axis in every opset.
 */
export class InGraphReductions implements AddedNodes {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  /** The scalar outputs to fetch. */
  readonly outputs: string[] = [];

  constructor(private readonly names: NameAllocator) {}

  /** A scalar output reducing `input` over all its elements. */
  reduce(op: ScalarReduction, input: string): string {
    const output = this.names.allocate(`${input}_${op}`);
    this.nodes.push(makeNode({ opType: op, name: output, inputs: [input], outputs: [output], attributes: [intAttribute("keepdims", 0)] }));
    this.outputs.push(output);
    return output;
  }

  /** `a − b` as an intermediate value. */
  subtract(a: string, b: string): string {
    const output = this.names.allocate(`${a}_minus`);
    this.nodes.push(makeNode({ opType: "Sub", name: output, inputs: [a, b], outputs: [output] }));
    return output;
  }

  /** `input` through an ai.onnx QuantizeLinear → DequantizeLinear pair with `params` (needs opset ≥ 10). */
  quantizeDequantize(input: string, params: QuantizationParams, type: "uint8" | "int8"): string {
    const scale = this.constant(`${input}_scale`, createScalar("float32", params.scale));
    const zeroPoint = this.constant(`${input}_zero_point`, createScalar(type, params.zeroPoint));
    const quantized = this.names.allocate(`${input}_quantized`);
    const output = this.names.allocate(`${input}_dequantized`);
    this.nodes.push(
      makeNode({ opType: "QuantizeLinear", name: quantized, inputs: [input, scale, zeroPoint], outputs: [quantized] }),
      makeNode({ opType: "DequantizeLinear", name: output, inputs: [quantized, scale, zeroPoint], outputs: [output] }),
    );
    return output;
  }

  private constant(base: string, make: (name: string) => TensorProto): string {
    const name = this.names.allocate(base);
    this.initializers.push(make(name));
    return name;
  }
}

function createScalar(dtype: "float32" | "uint8" | "int8", value: number): (name: string) => TensorProto {
  const data = dtype === "float32" ? Float32Array.of(value) : dtype === "uint8" ? Uint8Array.of(value) : Int8Array.of(value);
  return (name) => createTensorProto(name, dtype, [], data);
}

/** A fetched scalar output as a number (NaN when absent). */
export function scalarValue(values: Record<string, { data: ArrayLike<number | bigint> } | undefined>, name: string): number {
  const value = values[name]?.data[0];
  return value === undefined ? Number.NaN : Number(value);
}
