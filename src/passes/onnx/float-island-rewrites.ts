import { TensorProto_DataType as T, type GraphProto, type ModelProto, type NodeProto } from "onnx-buf";
import { subgraphsOf } from "../../formats/onnx/graph-walk.js";
import { attributeFloat, attributeInts, attributeString, hasAttribute } from "../../formats/onnx/node-attributes.js";
import { createTensorProto } from "../../formats/onnx/tensor-data.js";
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

/**
 * A scalar Mul or Add left float whose only reader is a float Conv (PP-LCNet's learnable scale and bias after a
 * hardswish the auto pass keeps float) folded into that Conv: Conv(s · y) has weights s · W, exactly (the zero
 * padding stays zero); Conv(y + b) has bias + b · ΣW per output channel, exactly only without padding, so only
 * there. onnxruntime runs neither op in NCHWc: each costs a kernel plus a layout reorder on either side. Conv
 * weights behind a DequantizeLinear (the int8 region) are not constants here and are left alone. Returns how
 * many were folded. Before a padded Conv, s · y + t becomes (y + t / s) · s, so that at least the Mul goes.
 */
export function foldFloatAffinesIntoConv(model: ModelProto, graph: GraphProto, names: NameAllocator): number {
  let folded = 0;
  // An Add folded into the Conv makes the Mul before it the Conv's only writer: repeat until nothing changes.
  for (let changed = true; changed; ) {
    changed = false;
    const constants = new ConstantIndex(model);
    const floatConstant = (name: string | undefined) => {
      const tensor = name ? constants.resolve(graph, name)?.tensor : undefined;
      return tensor && tensor.dataType === T.FLOAT ? tensor : undefined;
    };
    const readers = readerCounts(graph);
    const onlyReader = new Map<string, NodeProto>();
    for (const node of graph.node) for (const name of node.input) if (name && readers.get(name) === 1) onlyReader.set(name, node);
    for (const op of graph.node) {
      if ((op.opType !== "Mul" && op.opType !== "Add") || !isDefaultDomain(op) || op.input.length !== 2) continue;
      const slot = [0, 1].find((i) => floatConstant(op.input[i])?.dims.every((d) => d === 1n) === true);
      if (slot === undefined) continue;
      const value = readFloat32(floatConstant(op.input[slot])!)[0]!;
      if (!Number.isFinite(value)) continue;
      let conv = onlyReader.get(op.output[0]!);
      // s · y + t before a padded Conv: the Add cannot go into the bias, so it moves first, as (y + t / s) · s, and the Mul goes into the weights.
      const add = conv;
      const shiftSlot = add?.opType === "Add" && isDefaultDomain(add) && add.input.length === 2 ? [0, 1].find((i) => add.input[i] !== op.output[0] && floatConstant(add.input[i])?.dims.every((d) => d === 1n) === true) : undefined;
      if (op.opType === "Mul" && value !== 0 && add && shiftSlot !== undefined) {
        const next = onlyReader.get(add.output[0]!);
        conv = next?.opType === "Conv" && isDefaultDomain(next) && next.input[0] === add.output[0] && padded(next) ? next : undefined;
      }
      if (!conv || conv.opType !== "Conv" || !isDefaultDomain(conv) || (conv.input[0] !== op.output[0] && !(add && conv.input[0] === add.output[0]))) continue;
      const weight = floatConstant(conv.input[1]);
      if (!weight) continue;
      const w = readFloat32(weight);
      const dims = weight.dims.map(Number);
      if (conv.input[0] !== op.output[0]) {
        const shiftTensor = floatConstant(add!.input[shiftSlot!])!;
        const shift = readFloat32(shiftTensor)[0]!;
        add!.input[shiftSlot!] = addInitializer(graph, names.allocate(`${shiftTensor.name}_unscaled`), shiftTensor.dims.map(Number), Float32Array.of(shift / value));
        add!.input[1 - shiftSlot!] = op.input[1 - slot]!;
        conv.input[1] = addInitializer(graph, names.allocate(`${weight.name}_scaled`), dims, w.map((x) => x * value));
        graph.node = graph.node.filter((node) => node !== op);
        folded++;
        changed = true;
        break;
      }
      if (op.opType === "Mul") {
        conv.input[1] = addInitializer(graph, names.allocate(`${weight.name}_scaled`), dims, w.map((x) => x * value));
      } else {
        if (padded(conv)) continue;
        const outputs = dims[0]!;
        const perOutput = w.length / outputs;
        const biasTensor = conv.input[2] ? floatConstant(conv.input[2]) : undefined;
        if (conv.input[2] && !biasTensor) continue;
        const bias = biasTensor ? Float32Array.from(readFloat32(biasTensor)) : new Float32Array(outputs);
        for (let o = 0; o < outputs; o++) {
          let sum = 0;
          for (let i = o * perOutput; i < (o + 1) * perOutput; i++) sum += w[i]!;
          bias[o] = bias[o]! + value * sum;
        }
        conv.input[2] = addInitializer(graph, names.allocate(`${biasTensor?.name ?? conv.input[1]}_shifted`), [outputs], bias);
      }
      conv.input[0] = op.input[1 - slot]!;
      graph.node = graph.node.filter((node) => node !== op);
      folded++;
      changed = true;
      break;
    }
  }
  return folded;
}

function padded(conv: NodeProto): boolean {
  return (attributeInts(conv, "pads") ?? []).some((p) => p !== 0) || !["NOTSET", "VALID"].includes(attributeString(conv, "auto_pad", "NOTSET"));
}

function addInitializer(graph: GraphProto, name: string, dims: number[], data: Float32Array): string {
  graph.initializer.push(createTensorProto(name, "float32", dims, data));
  return name;
}
