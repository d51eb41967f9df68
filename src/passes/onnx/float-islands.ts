import type { ModelProto, NodeProto } from "onnx-buf";
import type { PassLog } from "../pass.js";
import { addCount } from "./onnx-pass-io.js";

const qdqOps = new Set(["QuantizeLinear", "DequantizeLinear"]);
/** Ops that only compute shapes or constants: never worth quantizing and no cost to leave float. */
const bookkeepingOps = new Set(["Constant", "Shape", "Cast", "Gather", "Unsqueeze", "Squeeze", "Concat", "Slice", "ConstantOfShape", "Range", "Size", "Identity"]);

/**
 * Name the float islands a QDQ model still has: maximal connected groups of main-graph nodes that
 * read a DequantizeLinear output or feed a QuantizeLinear and run in float between them. Each one
 * costs a dequantize on the way in and a quantize on the way out.
 */
export function describeFloatIslands(model: ModelProto, log: PassLog): void {
  const graph = model.graph!;
  const producer = new Map<string, NodeProto>();
  for (const node of graph.node) for (const output of node.output) producer.set(output, node);
  const isQdq = (node: NodeProto | undefined) => !!node && qdqOps.has(node.opType);
  // Nodes onnxruntime will fuse into a QLinear kernel or run on int8: every float input comes from a DQ and every output goes to a Q.
  const readers = new Map<string, NodeProto[]>();
  for (const node of graph.node) for (const input of node.input) if (input) readers.set(input, [...(readers.get(input) ?? []), node]);
  const quantized = (node: NodeProto) =>
    node.input.some((i) => isQdq(producer.get(i))) && node.output.every((o) => (readers.get(o) ?? []).length > 0 && readers.get(o)!.every((r) => r.opType === "QuantizeLinear"));
  const floatNodes = graph.node.filter((node) => !isQdq(node) && !quantized(node));
  const touchesInt8 = (node: NodeProto) =>
    node.input.some((i) => {
      const from = producer.get(i);
      return from?.opType === "DequantizeLinear" && isActivationDq(from, producer);
    }) ||
    node.output.some((o) => (readers.get(o) ?? []).some((r) => r.opType === "QuantizeLinear"));
  const parent = new Map<NodeProto, NodeProto>();
  const find = (node: NodeProto): NodeProto => {
    let root = node;
    while (parent.get(root) && parent.get(root) !== root) root = parent.get(root)!;
    parent.set(node, root);
    return root;
  };
  const floatSet = new Set(floatNodes.filter((n) => !bookkeepingOps.has(n.opType)));
  for (const node of floatSet) parent.set(node, node);
  for (const node of floatSet) {
    for (const input of node.input) {
      const from = producer.get(input);
      if (from && floatSet.has(from)) parent.set(find(node), find(from));
    }
  }
  const islands = new Map<NodeProto, NodeProto[]>();
  for (const node of floatSet) islands.set(find(node), [...(islands.get(find(node)) ?? []), node]);
  const bordered = [...islands.values()].filter((members) => members.some(touchesInt8));
  addCount(log, "floatIslands", bordered.length);
  if (bordered.length === 0) return;
  const ops = new Map<string, number>();
  for (const members of bordered) for (const node of members) ops.set(node.opType, (ops.get(node.opType) ?? 0) + 1);
  const largest = Math.max(...bordered.map((members) => members.length));
  const summary = [...ops].sort((a, b) => b[1] - a[1]).map(([op, count]) => `${op}×${count}`).join(", ");
  log.notes.push(`${bordered.length} float island(s) left between int8 regions (largest ${largest} nodes), ops running in float there: ${summary}`);
}

/** A DequantizeLinear of an activation (fed by a QuantizeLinear), not of a constant weight. */
function isActivationDq(dq: NodeProto, producer: ReadonlyMap<string, NodeProto>): boolean {
  return producer.get(dq.input[0]!)?.opType === "QuantizeLinear";
}
