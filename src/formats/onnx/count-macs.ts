import type { NodeProto } from "onnx-buf";
import { attributeInt } from "./node-attributes.js";
import { isNumericDims, product, type Dim } from "./value-facts.js";

/** Ops whose multiply-accumulate count is estimated. */
export const macOps = new Set(["MatMul", "Gemm", "Conv", "ConvTranspose", "LSTM", "GRU", "RNN"]);

/** Gates per recurrent cell: each multiplies the input and the hidden state by its own matrices. */
const recurrentGates: Record<string, number> = { LSTM: 4, GRU: 3, RNN: 1 };

/**
 * Multiply-accumulates of one MatMul/Gemm/Conv/ConvTranspose/LSTM/GRU/RNN from its input and output dims;
 * undefined when a needed dim is not a known number (counted as unresolved, never guessed).
 * Bias additions are not counted.
 */
export function countNodeMacs(node: NodeProto, inputDims: (Dim[] | undefined)[], outputDims: Dim[] | undefined): number | undefined {
  const [a, b] = inputDims;
  switch (node.opType) {
    case "MatMul": {
      // Output elements × the shared (reduced) dimension.
      if (!isNumericDims(a) || !isNumericDims(outputDims) || a.length === 0) return undefined;
      return product(outputDims) * a[a.length - 1]!;
    }
    case "Gemm": {
      if (!isNumericDims(a) || !isNumericDims(outputDims) || a.length !== 2) return undefined;
      const k = attributeInt(node, "transA", 0) ? a[0]! : a[1]!;
      return product(outputDims) * k;
    }
    case "Conv": {
      // Each output element reads (C/group)·prod(kernel) inputs: W is [M, C/group, k...].
      if (!isNumericDims(b) || !isNumericDims(outputDims) || b.length < 3) return undefined;
      return product(outputDims) * product(b.slice(1));
    }
    case "ConvTranspose": {
      // Each input element scatters into (M/group)·prod(kernel) outputs: W is [C, M/group, k...].
      if (!isNumericDims(a) || !isNumericDims(b) || b.length < 3) return undefined;
      return product(a) * product(b.slice(1));
    }
    case "LSTM":
    case "GRU":
    case "RNN": {
      // Per step and direction: gates·hidden outputs, each reading input + hidden values (W [dirs, gates·hidden, input], R [.., hidden]).
      const r = inputDims[2];
      if (!isNumericDims(a) || !isNumericDims(b) || !isNumericDims(r) || a.length !== 3 || b.length !== 3 || r.length !== 3) return undefined;
      const [directions, gateRows, inputSize] = b as [number, number, number];
      const hiddenSize = r[2]!;
      if (gateRows !== recurrentGates[node.opType]! * hiddenSize) return undefined;
      // X is [seq, batch, input], or [batch, seq, input] with layout 1: either way seq·batch steps.
      return a[0]! * a[1]! * directions * gateRows * (inputSize + hiddenSize);
    }
    default:
      return undefined;
  }
}
