import { TensorProto_DataType as T, type ModelProto } from "onnx-buf";
import { walkGraphs } from "../../formats/onnx/graph-walk.js";
import { createTensorProto, getTensorData } from "../../formats/onnx/tensor-data.js";
import { attributeInt } from "../../formats/onnx/node-attributes.js";
import { ConstantIndex } from "./graph-edit.js";

/** Reshape's target shape resolved against the input dims (0 copies a dimension unless allowzero, -1 is inferred). */
function resolveShape(inputDims: readonly number[], target: readonly number[], allowZero: boolean): number[] | undefined {
  const total = inputDims.reduce((a, b) => a * b, 1);
  const dims = target.map((d, i) => (d === 0 && !allowZero ? inputDims[i] : d));
  if (dims.some((d) => d === undefined)) return undefined;
  const inferred = dims.filter((d) => d === -1).length;
  if (inferred > 1) return undefined;
  const known = (dims as number[]).filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const resolved = (dims as number[]).map((d) => (d === -1 ? (known === 0 ? 0 : total / known) : d));
  return Number.isInteger(resolved.reduce((a, b) => a * b, 1)) && resolved.reduce((a, b) => a * b, 1) === total ? resolved : undefined;
}

/**
 * Fold Reshape nodes whose data and shape are both constant into a reshaped float32 initializer
 * (old exporters store a MatMul weight as a 4-D tensor reshaped at run time, as mnist-8 does), so
 * that quantizers see the weight as a constant. The folded tensor is a view over the original's
 * bytes. Returns how many were folded.
 */
export function foldConstantReshapes(model: ModelProto): number {
  if (!model.graph) return 0;
  const constants = new ConstantIndex(model);
  let folded = 0;
  for (const { graph } of walkGraphs(model.graph)) {
    const outputs = new Set(graph.output.map((o) => o.name));
    graph.node = graph.node.filter((node) => {
      if (node.opType !== "Reshape" || (node.domain !== "" && node.domain !== "ai.onnx") || node.input.length !== 2 || outputs.has(node.output[0]!)) return true;
      const data = constants.resolve(graph, node.input[0]!);
      const shape = constants.resolve(graph, node.input[1]!);
      if (!data || !shape || data.tensor.dataType !== T.FLOAT || shape.tensor.dataType !== T.INT64) return true;
      const target = Array.from(getTensorData(shape.tensor) as BigInt64Array, Number);
      const dims = resolveShape(data.tensor.dims.map(Number), target, attributeInt(node, "allowzero", 0) === 1);
      if (!dims) return true;
      const values = getTensorData(data.tensor) as Float32Array;
      graph.initializer.push(createTensorProto(node.output[0]!, "float32", dims, values));
      folded++;
      return false;
    });
  }
  return folded;
}
