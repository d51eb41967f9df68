import { TensorProto_DataType as T, type ModelProto, type NodeProto } from "onnx-buf";
import { attributeInt } from "../../formats/onnx/node-attributes.js";
import { findCandidateNodes, SkipLog } from "./candidate-nodes.js";
import { inferElementTypes } from "./element-types.js";
import { ConstantIndex, type ConstantRef } from "./graph-edit.js";

/** What static QDQ quantization will touch in one node: its activations, weight and bias. */
export interface QdqNodePlan {
  node: NodeProto;
  id: string;
  /** Activation inputs (float32 values of the main graph) that get Q/DQ. */
  activations: string[];
  weight?: { ref: ConstantRef; slot: number; axis: number };
  bias?: { ref: ConstantRef; slot: number; activation: string };
  /** The node's output, when it is quantized too (not when it is a model output). */
  output?: string;
}

export interface QdqPlan {
  nodes: QdqNodePlan[];
  /** Every activation needing a range: node inputs and outputs, de-duplicated. */
  tensors: string[];
  skips: SkipLog;
}

export interface QdqPlanOptions {
  opTypes: readonly string[];
  excludeNodes: readonly string[];
  excludeOpTypes: readonly string[];
}

/** Per-channel axis of a weight: Conv filters by output channel (0); MatMul B [K, N] by column (1); Gemm by N. */
function weightAxis(node: NodeProto): number {
  if (node.opType === "Conv") return 0;
  if (node.opType === "Gemm") return attributeInt(node, "transB", 0) === 1 ? 0 : 1;
  return 1;
}

/**
 * Decide, for the main graph, which nodes static QDQ quantizes and which activations need
 * calibration ranges. Subgraph nodes are skipped: their activations cannot be exposed as model
 * outputs for calibration.
 */
export function planQdq(model: ModelProto, options: QdqPlanOptions): QdqPlan {
  const skips = new SkipLog();
  const graph = model.graph!;
  const constants = new ConstantIndex(model);
  const { types } = inferElementTypes(graph);
  const graphOutputs = new Set(graph.output.map((o) => o.name));
  const nodes: QdqNodePlan[] = [];
  for (const candidate of findCandidateNodes(model, options, skips)) {
    const { node, id } = candidate;
    if (candidate.scopePath !== "") {
      skips.skip(id, "inside a subgraph (its activations cannot be calibrated)");
      continue;
    }
    const resolve = (slot: number) => (node.input[slot] ? constants.resolve(graph, node.input[slot]!) : undefined);
    const weightRef = resolve(1);
    const isMatMul = node.opType === "MatMul";
    if (!weightRef && !isMatMul) {
      skips.skip(id, "weight is not a constant");
      continue;
    }
    if (weightRef && (weightRef.tensor.dataType !== T.FLOAT || (node.opType !== "Conv" && weightRef.tensor.dims.length !== 2))) {
      skips.skip(id, "weight is not a float32 matrix/filter");
      continue;
    }
    if (node.opType === "Gemm" && attributeInt(node, "transA", 0) !== 0) {
      skips.skip(id, "Gemm with transA is not supported");
      continue;
    }
    const activations = weightRef ? [node.input[0]!] : [node.input[0]!, node.input[1]!];
    if (activations.some((name) => !types.isFloat32(name) || constants.resolve(graph, name))) {
      skips.skip(id, "an activation input is not a float32 value");
      continue;
    }
    const plan: QdqNodePlan = { node, id, activations };
    if (weightRef) plan.weight = { ref: weightRef, slot: 1, axis: weightAxis(node) };
    const biasRef = node.opType === "MatMul" ? undefined : resolve(2);
    if (biasRef && biasRef.tensor.dataType === T.FLOAT && biasRef.tensor.dims.length <= 1 && node.attribute.every((a) => a.name !== "beta" || a.f === 1)) {
      plan.bias = { ref: biasRef, slot: 2, activation: node.input[0]! };
    }
    const output = node.output[0]!;
    if (!graphOutputs.has(output) && types.isFloat32(output)) plan.output = output;
    nodes.push(plan);
  }
  const tensors = [...new Set(nodes.flatMap((n) => [...n.activations, ...(n.output ? [n.output] : [])]))];
  return { nodes, tensors, skips };
}
