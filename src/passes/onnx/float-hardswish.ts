import { TensorProto_DataType as T, type GraphProto, type ModelProto, type NodeProto } from "onnx-buf";
import { subgraphsOf } from "../../formats/onnx/graph-walk.js";
import { attributeFloat, hasAttribute } from "../../formats/onnx/node-attributes.js";
import { readFloat32 } from "./float-tensors.js";
import { ConstantIndex, floatAttribute, makeNode, namesReadUnder, type NameAllocator } from "./graph-edit.js";

/** Relative tolerance for "this Mul is by 1/u" (the reciprocal is stored rounded to float32). */
const reciprocalTolerance = 1e-6;

function readerCounts(graph: GraphProto): Map<string, number> {
  const counts = new Map<string, number>();
  const count = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);
  for (const node of graph.node) {
    for (const name of node.input) if (name) count(name);
    for (const { graph: sub } of subgraphsOf(node)) for (const name of namesReadUnder(sub)) count(name);
  }
  for (const output of graph.output) count(output.name);
  return counts;
}

function isDefaultDomain(node: NodeProto): boolean {
  return node.domain === "" || node.domain === "ai.onnx";
}

/**
 * Hardswish written out in float — x · clip(x + c, 0, u) / u (PP-LCNet: c = 3, u = 6, as Add, Clip, Mul and
 * Div or Mul by 1/u, the division before or after the product) — as HardSigmoid(x; α = 1/u, β = c/u) · x, the
 * same function. onnxruntime fuses HardSigmoid + Mul into HardSwish and that into the Conv before it (NCHWc),
 * where the written-out form costs four elementwise kernels over the tensor. Only float nodes match: in the int8
 * region the Clip and the division are folded into quantization parameters and the Add reads a quantized
 * constant. Returns how many were rewritten.
 */
export function fuseFloatHardSwish(model: ModelProto, graph: GraphProto, names: NameAllocator): number {
  const constants = new ConstantIndex(model);
  const scalar = (name: string | undefined): number | undefined => {
    const tensor = name ? constants.resolve(graph, name)?.tensor : undefined;
    if (!tensor || tensor.dataType !== T.FLOAT) return undefined;
    const values = readFloat32(tensor);
    return values.length === 1 && Number.isFinite(values[0]!) ? values[0] : undefined;
  };
  const readers = readerCounts(graph);
  const onlyReader = new Map<string, NodeProto>();
  for (const node of graph.node) for (const name of node.input) if (name && readers.get(name) === 1) onlyReader.set(name, node);
  const next = (node: NodeProto): NodeProto | undefined => {
    const reader = onlyReader.get(node.output[0]!);
    return reader && isDefaultDomain(reader) ? reader : undefined;
  };
  /** The factor a Mul-by-constant or Div-by-constant node scales `input` by. */
  const factor = (node: NodeProto | undefined, input: string): number | undefined => {
    if (!node || node.input.length !== 2) return undefined;
    if (node.opType === "Div" && node.input[0] === input) {
      const divisor = scalar(node.input[1]);
      return divisor ? 1 / divisor : undefined;
    }
    if (node.opType !== "Mul") return undefined;
    return node.input[0] === input ? scalar(node.input[1]) : node.input[1] === input ? scalar(node.input[0]) : undefined;
  };
  const clipBounds = (clip: NodeProto): [number, number] | undefined => {
    if (clip.input.length > 1) {
      const [low, high] = [scalar(clip.input[1]), clip.input[2] ? scalar(clip.input[2]) : undefined];
      return low === undefined || high === undefined ? undefined : [low, high];
    }
    // Clip before opset 11 keeps its bounds in attributes.
    return hasAttribute(clip, "min") && hasAttribute(clip, "max") ? [attributeFloat(clip, "min", 0), attributeFloat(clip, "max", 0)] : undefined;
  };

  const removed = new Set<NodeProto>();
  const replacements = new Map<NodeProto, NodeProto[]>();
  for (const add of graph.node) {
    if (add.opType !== "Add" || !isDefaultDomain(add) || add.input.length !== 2 || removed.has(add)) continue;
    const constantSlot = scalar(add.input[1]) !== undefined ? 1 : scalar(add.input[0]) !== undefined ? 0 : -1;
    if (constantSlot < 0) continue;
    const shift = scalar(add.input[constantSlot])!;
    const x = add.input[1 - constantSlot]!;
    const clip = next(add);
    if (clip?.opType !== "Clip" || clip.input[0] !== add.output[0]) continue;
    const bounds = clipBounds(clip);
    if (!bounds || bounds[0] !== 0 || !(bounds[1] > 0)) continue;
    const upper = bounds[1];
    const isProduct = (node: NodeProto | undefined, operand: string) =>
      node?.opType === "Mul" && node.input.length === 2 && ((node.input[0] === x && node.input[1] === operand) || (node.input[1] === x && node.input[0] === operand));
    // Product then division, or division then product.
    let chain: NodeProto[] | undefined;
    const first = next(clip);
    if (isProduct(first, clip.output[0]!)) {
      const divide = next(first!);
      const k = factor(divide, first!.output[0]!);
      if (k !== undefined && Math.abs(k * upper - 1) <= reciprocalTolerance) chain = [first!, divide!];
    } else {
      const k = factor(first, clip.output[0]!);
      const product = first ? next(first) : undefined;
      if (k !== undefined && Math.abs(k * upper - 1) <= reciprocalTolerance && isProduct(product, first!.output[0]!)) chain = [first!, product!];
    }
    if (!chain) continue;
    const last = chain[1]!;
    const gate = names.allocate(`${add.output[0]}_hardsigmoid`);
    const hardSigmoid = makeNode({ opType: "HardSigmoid", name: names.allocate(`${add.name || gate}_hardsigmoid`), inputs: [x], outputs: [gate], attributes: [floatAttribute("alpha", 1 / upper), floatAttribute("beta", shift / upper)] });
    const product = makeNode({ opType: "Mul", name: names.allocate(`${last.name || gate}_hardswish`), inputs: [x, gate], outputs: [last.output[0]!] });
    for (const node of [add, clip, ...chain]) removed.add(node);
    replacements.set(add, [hardSigmoid, product]);
  }
  if (replacements.size === 0) return 0;
  // The new pair sits where the Add was: x is computed by then, and every reader of the old output comes later.
  graph.node = graph.node.flatMap((node) => replacements.get(node) ?? (removed.has(node) ? [] : [node]));
  return replacements.size;
}
