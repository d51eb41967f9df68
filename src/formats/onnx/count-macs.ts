import type { NodeProto } from "onnx-buf";
import { attributeInt } from "./node-attributes.js";
import { isNumericDims, product, type Dim } from "./value-facts.js";

/** Ops whose multiply-accumulate count is estimated. */
export const macOps = new Set(["MatMul", "Gemm", "Conv", "ConvTranspose"]);

/**
 * Multiply-accumulates of one MatMul/Gemm/Conv/ConvTranspose from its input and output dims;
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
    default:
      return undefined;
  }
}
