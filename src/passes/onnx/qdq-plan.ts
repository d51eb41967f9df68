import { TensorProto_DataType as T, type GraphProto, type ModelProto, type NodeProto } from "onnx-buf";
import { subgraphsOf } from "../../formats/onnx/graph-walk.js";
import { attributeFloat, attributeInt } from "../../formats/onnx/node-attributes.js";
import { findCandidateNodes, SkipLog } from "./candidate-nodes.js";
import { inferElementTypes } from "./element-types.js";
import { readFloat32 } from "./float-tensors.js";
import { ConstantIndex, namesReadUnder, type ConstantRef } from "./graph-edit.js";

/**
 * How static QDQ treats an op, after onnxruntime's QDQ node groups:
 * - weighted: int8 weight (per channel) and int32 bias, activations uint8/int8 (QLinearConv, QLinearMatMul…);
 * - elementwise: every input quantized, constants too, output with its own range (QLinearAdd/Mul/Concat);
 * - own-range: one activation in, output with its own range (QLinearAveragePool, QLinearSigmoid…);
 * - shared: data movement whose output keeps its input's scale and zero point, so onnxruntime drops
 *   the Q/DQ around it and runs it on int8 (Reshape, Transpose, MaxPool, Resize, DepthToSpace…).
 */
export type QdqKind = "weighted" | "elementwise" | "own-range" | "shared";

export const qdqOpKinds = {
  Conv: "weighted",
  ConvTranspose: "weighted",
  MatMul: "weighted",
  Gemm: "weighted",
  Add: "elementwise",
  Mul: "elementwise",
  Concat: "elementwise",
  AveragePool: "own-range",
  GlobalAveragePool: "own-range",
  Sigmoid: "own-range",
  LeakyRelu: "own-range",
  Softmax: "own-range",
  MaxPool: "shared",
  Resize: "shared",
  DepthToSpace: "shared",
  Transpose: "shared",
  Reshape: "shared",
  Squeeze: "shared",
  Unsqueeze: "shared",
  Flatten: "shared",
  Slice: "shared",
  Split: "shared",
  Gather: "shared",
} as const satisfies Record<string, QdqKind>;

export type QdqOpType = keyof typeof qdqOpKinds;
/**
 * Shared ops onnxruntime's CPU EP has a uint8/int8 kernel for but no rule dropping the Q/DQ around:
 * applyQdq puts them between the QuantizeLinear and the DequantizeLinear, on the integers.
 */
export const integerSharedOps: ReadonlySet<string> = new Set(["DepthToSpace"]);
export const qdqOpTypes = Object.keys(qdqOpKinds) as QdqOpType[];
/**
 * Opt-in: Softmax pays only on large attention maps (as in onnxruntime's examples); ConvTranspose
 * has no QDQ fusion on onnxruntime's CPU EP (its selector registry has Conv, MatMul and Gemm only),
 * so there it would run in float behind a weight DequantizeLinear executed at every inference (one with
 * kernel = stride is rewritten as a Conv and a DepthToSpace before planning: qdq-prepare).
 */
const optInQdqOpTypes = new Set<QdqOpType>(["Softmax", "ConvTranspose"]);
export const defaultQdqOpTypes = qdqOpTypes.filter((op) => !optInQdqOpTypes.has(op));


/** What static QDQ quantization will touch in one node. */
export interface QdqNodePlan {
  node: NodeProto;
  id: string;
  kind: QdqKind;
  /** Activation inputs (float32 values of the main graph) that get Q/DQ. */
  activations: string[];
  /** Constant float inputs of elementwise ops, quantized per tensor like activations. */
  constants: { ref: ConstantRef; slot: number }[];
  weight?: { ref: ConstantRef; slot: number; axis: number };
  bias?: { ref: ConstantRef; slot: number; activation: string };
  /** Outputs that get Q/DQ (not model outputs); a folded chain's output replaces the node's own. */
  outputs: string[];
  fold?: FoldedChain;
}

/**
 * Nodes after a quantized node's only output that disappear into that output's quantization:
 * together y = clamp(scale · x + shift). The QuantizeLinear reads x with scale s_y / scale and zero
 * point z_y + shift / s_y, the DequantizeLinear gives y with y's own parameters, so scalar affine
 * ops (PP-LCNet's hardswish ÷ 6 and learnable scale/bias, HardSigmoid's slope and offset) cost no
 * kernel; a clamp at the end (Relu, Clip, HardSigmoid) is the saturation of y's range, which lies
 * inside the clamp interval.
 */
export interface FoldedChain {
  nodes: NodeProto[];
  output: string;
  scale: number;
  shift: number;
}

export interface QdqPlan {
  /** The graph the plan rewrites: the main graph or one subgraph. */
  graph: GraphProto;
  nodes: QdqNodePlan[];
  /** Every activation needing a calibrated range (shared outputs borrow their input's), de-duplicated. */
  tensors: string[];
  skips: SkipLog;
}

export interface QdqPlanOptions {
  opTypes: readonly string[];
  excludeNodes: readonly string[];
  excludeOpTypes: readonly string[];
  /** Fold Relu/Clip/HardSigmoid and scalar Mul/Add chains into the preceding quantized output (needs asymmetric activations). */
  foldActivations: boolean;
  /** The graph to plan (an If branch or Loop/Scan body, whose activations calibration reaches through its carrier's outputs); default: the main graph. */
  graph?: GraphProto;
}

/** Per-channel axis of a weight: Conv filters by output channel (0); ConvTranspose [C_in, C_out…] by 1; MatMul B [K, N] by column (1); Gemm by N. */
function weightAxis(node: NodeProto): number {
  if (node.opType === "Conv") return 0;
  if (node.opType === "Gemm") return attributeInt(node, "transB", 0) === 1 ? 0 : 1;
  return 1;
}

interface ChainContext {
  consumers: ReadonlyMap<string, NodeProto[]>;
  graphOutputs: ReadonlySet<string>;
  constants: ConstantIndex;
  graph: GraphProto;
  isFloat32: (name: string) => boolean;
  /** Planned nodes: a Mul/Add joins a chain only if it would have been quantized itself. */
  planned: ReadonlyMap<NodeProto, QdqNodePlan>;
}

/** One step of a foldable chain: y = scale · x + shift, then clamped to [lower, upper] if `clamps`. */
interface ChainStep {
  scale: number;
  shift: number;
  clamps: boolean;
  lower: number;
  upper: number;
}

/** A float scalar constant (shape [] or [1], so it cannot broadcast to a new rank), if `name` is one. */
function scalarConstant(name: string | undefined, context: ChainContext): number | undefined {
  const ref = name ? context.constants.resolve(context.graph, name) : undefined;
  if (!ref || ref.tensor.dataType !== T.FLOAT || ref.tensor.dims.length > 1) return undefined;
  const values = readFloat32(ref.tensor);
  return values.length === 1 && Number.isFinite(values[0]) ? values[0] : undefined;
}

/** Clip's bounds: attributes before opset 11, optional constant inputs after. */
function clipBounds(node: NodeProto, context: ChainContext): { lower: number; upper: number } | undefined {
  if (node.attribute.some((a) => a.name === "min" || a.name === "max")) return { lower: attributeFloat(node, "min", -Infinity), upper: attributeFloat(node, "max", Infinity) };
  const bound = (slot: number, fallback: number) => (node.input[slot] ? scalarConstant(node.input[slot], context) : fallback);
  const lower = bound(1, -Infinity);
  const upper = bound(2, Infinity);
  return lower === undefined || upper === undefined ? undefined : { lower, upper };
}

function chainStep(node: NodeProto, input: string, context: ChainContext): ChainStep | undefined {
  if ((node.domain !== "" && node.domain !== "ai.onnx") || node.output.length !== 1 || node.input[0] === undefined) return undefined;
  const identity = { scale: 1, shift: 0, clamps: false, lower: -Infinity, upper: Infinity };
  switch (node.opType) {
    case "Relu":
      return { ...identity, clamps: true, lower: 0 };
    case "Clip": {
      const bounds = node.input[0] === input ? clipBounds(node, context) : undefined;
      return bounds ? { ...identity, clamps: true, ...bounds } : undefined;
    }
    case "HardSigmoid": {
      const alpha = attributeFloat(node, "alpha", 0.2);
      return alpha > 0 ? { scale: alpha, shift: attributeFloat(node, "beta", 0.5), clamps: true, lower: 0, upper: 1 } : undefined;
    }
    case "Mul":
    case "Add": {
      if (node.input.length !== 2 || !context.planned.has(node)) return undefined;
      const other = node.input[0] === input ? node.input[1] : node.input[1] === input ? node.input[0] : undefined;
      const value = scalarConstant(other, context);
      if (value === undefined) return undefined;
      if (node.opType === "Add") return { ...identity, shift: value };
      // A negative factor would need a negative scale.
      return value > 0 ? { ...identity, scale: value } : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The longest chain of single-reader scalar affine ops after `start`, ending at the first clamp,
 * that the quantization of its last output can absorb. A clamp must hold 0 (the quantized range
 * always does) and the chain's value at x = 0 (so x's zero point is a code of the type).
 */
function foldableChain(start: string, context: ChainContext): FoldedChain | undefined {
  let best: FoldedChain | undefined;
  const chain: FoldedChain = { nodes: [], output: start, scale: 1, shift: 0 };
  for (let current = start; ; ) {
    const readers = context.consumers.get(current) ?? [];
    if (readers.length !== 1 || context.graphOutputs.has(current)) break;
    const node = readers[0]!;
    const step = chainStep(node, current, context);
    const output = node.output[0];
    if (!step || !output || context.graphOutputs.has(output) || !context.isFloat32(output)) break;
    const scale = chain.scale * step.scale;
    const shift = chain.shift * step.scale + step.shift;
    if (step.clamps && !(step.lower <= 0 && step.upper >= 0 && step.lower <= shift && shift <= step.upper)) break;
    chain.nodes.push(node);
    Object.assign(chain, { output, scale, shift });
    best = { ...chain, nodes: [...chain.nodes] };
    if (step.clamps) break;
    current = output;
  }
  return best;
}

/**
 * Decide, for one graph (the main graph unless `options.graph` names a subgraph), which nodes static
 * QDQ quantizes and which activations need calibration ranges; subgraph nodes are left to their own
 * graph's plan. Elementwise ops are quantized only where they touch the int8 region
 * (an input from a quantized node, or a weighted consumer), so float-only islands such as a
 * LayerNorm's inner arithmetic are not wrapped in conversions that buy nothing.
 */
export function planQdq(model: ModelProto, options: QdqPlanOptions): QdqPlan {
  const skips = new SkipLog();
  const graph = options.graph ?? model.graph!;
  const constants = new ConstantIndex(model);
  const inferred = inferElementTypes(model.graph!);
  const types = graph === model.graph ? inferred.types : inferred.subgraphs.get(graph)!;
  const graphOutputs = new Set(graph.output.map((o) => o.name));
  const consumers = new Map<string, NodeProto[]>();
  for (const node of graph.node) for (const name of node.input) if (name) consumers.set(name, [...(consumers.get(name) ?? []), node]);
  // A node whose subgraphs read a value reads it too: a fold must not rename what a branch reads.
  for (const node of graph.node) for (const { graph: sub } of subgraphsOf(node)) for (const name of namesReadUnder(sub)) consumers.set(name, [...(consumers.get(name) ?? []), node]);
  const isActivation = (name: string | undefined): name is string => !!name && types.isFloat32(name) && !constants.resolve(graph, name);
  const outputsOf = (node: NodeProto) => node.output.filter((name) => name !== "" && !graphOutputs.has(name) && types.isFloat32(name));

  const planned: QdqNodePlan[] = [];
  for (const candidate of findCandidateNodes(model, options, skips)) {
    const { node, id } = candidate;
    const kind = qdqOpKinds[node.opType as QdqOpType];
    // Another graph's node: that graph's own plan takes it.
    if (candidate.graph !== graph) continue;
    const plan = kind === "weighted" ? planWeighted(node, id, constants, graph, graphOutputs, skips) : planOther(node, id, kind, constants, graph, isActivation, skips);
    if (!plan) continue;
    if (plan.activations.some((name) => !isActivation(name))) {
      skips.skip(id, "an activation input is not a float32 value");
      continue;
    }
    plan.outputs = outputsOf(node);
    planned.push(plan);
  }

  // Elementwise ops join only where they touch the int8 region (fixpoint over chains of them).
  const quantizedOutputs = new Set<string>(graph.input.map((i) => i.name));
  const byNode = new Map(planned.map((p) => [p.node, p]));
  for (const p of planned) if (p.kind === "weighted" || p.kind === "own-range") for (const o of p.node.output) quantizedOutputs.add(o);
  const accepted = new Set(planned.filter((p) => p.kind !== "elementwise"));
  for (let changed = true; changed; ) {
    changed = false;
    for (const p of planned) {
      if (accepted.has(p) || p.kind !== "elementwise") continue;
      const fedQuantized = p.activations.some((name) => quantizedOutputs.has(name));
      const feedsWeighted = p.node.output.some((o) => (consumers.get(o) ?? []).some((c) => byNode.get(c)?.kind === "weighted"));
      if (fedQuantized || feedsWeighted) {
        accepted.add(p);
        for (const o of p.node.output) quantizedOutputs.add(o);
        changed = true;
      }
    }
  }
  for (const p of planned) if (!accepted.has(p)) skips.skip(p.id, "elementwise op away from the int8 region (would only add conversions)");
  let nodes = planned.filter((p) => accepted.has(p));

  if (options.foldActivations) {
    const absorbed = new Set<NodeProto>();
    for (const p of nodes) {
      if (p.kind === "shared" || absorbed.has(p.node) || p.outputs.length !== 1 || p.node.output.length !== 1) continue;
      const chain = foldableChain(p.outputs[0]!, { consumers, graphOutputs, constants, graph, isFloat32: (name) => types.isFloat32(name), planned: byNode });
      if (!chain) continue;
      p.fold = chain;
      p.outputs = [chain.output];
      for (const node of chain.nodes) absorbed.add(node);
    }
    nodes = nodes.filter((p) => !absorbed.has(p.node));
  }

  // An output is quantized only where a quantized node reads it: a Q/DQ before a float consumer or a
  // model output only adds error. A non-weighted node left with no quantized output would run in
  // float anyway, so it drops out too. A Conv keeps its quantized output whoever reads it:
  // onnxruntime fuses QLinearConv only with a QuantizeLinear after it (MatMul and Gemm have
  // float-output forms), and an unfused Conv runs in float behind a weight dequantized at every run.
  // Main graph only: with those extra pairs in Silero VAD's If branch, onnxruntime 1.30 aborts while
  // optimizing the session (an out-of-range NodeArg index assertion), so branches keep the read-only rule.
  const keepConvOutputs = graph === model.graph;
  let kept = nodes;
  for (let changed = true; changed; ) {
    const read = new Set(kept.flatMap((n) => n.activations));
    for (const n of kept) n.outputs = n.outputs.filter((o) => read.has(o) || (keepConvOutputs && n.node.opType === "Conv"));
    const next = kept.filter((n) => n.kind === "weighted" || n.outputs.length > 0);
    for (const n of kept) if (!next.includes(n)) skips.skip(n.id, "no quantized node reads its output (it would run in float anyway)");
    changed = next.length !== kept.length;
    kept = next;
  }
  for (const n of kept) if (n.fold && !n.outputs.includes(n.fold.output)) delete n.fold;
  const tensors = [...new Set(kept.filter((n) => n.kind !== "shared").flatMap((n) => [...n.activations, ...n.outputs]))];
  return { graph, nodes: kept, tensors, skips };
}

function planWeighted(node: NodeProto, id: string, constants: ConstantIndex, graph: GraphProto, graphOutputs: ReadonlySet<string>, skips: SkipLog): QdqNodePlan | undefined {
  const resolve = (slot: number) => (node.input[slot] ? constants.resolve(graph, node.input[slot]!) : undefined);
  const weightRef = resolve(1);
  const isMatMul = node.opType === "MatMul";
  if (!weightRef && !isMatMul) {
    skips.skip(id, "weight is not a constant");
    return undefined;
  }
  if (weightRef && (weightRef.tensor.dataType !== T.FLOAT || (node.opType !== "Conv" && node.opType !== "ConvTranspose" && weightRef.tensor.dims.length !== 2))) {
    skips.skip(id, "weight is not a float32 matrix/filter");
    return undefined;
  }
  if (node.opType === "Gemm" && attributeInt(node, "transA", 0) !== 0) {
    skips.skip(id, "Gemm with transA is not supported");
    return undefined;
  }
  if (node.opType === "ConvTranspose" && attributeInt(node, "group", 1) !== 1) {
    skips.skip(id, "grouped ConvTranspose has no per-channel int8 form");
    return undefined;
  }
  if (node.opType === "Conv" && node.output.some((o) => graphOutputs.has(o))) {
    skips.skip(id, "its output is a model output (onnxruntime fuses QLinearConv only with a QuantizeLinear after it)");
    return undefined;
  }
  const activations = weightRef ? [node.input[0]!] : [node.input[0]!, node.input[1]!];
  const plan: QdqNodePlan = { node, id, kind: "weighted", activations, constants: [], outputs: [] };
  if (weightRef) plan.weight = { ref: weightRef, slot: 1, axis: weightAxis(node) };
  const biasRef = node.opType === "MatMul" ? undefined : resolve(2);
  if (biasRef && biasRef.tensor.dataType === T.FLOAT && biasRef.tensor.dims.length <= 1 && node.attribute.every((a) => a.name !== "beta" || a.f === 1)) {
    plan.bias = { ref: biasRef, slot: 2, activation: node.input[0]! };
  }
  return plan;
}

function planOther(
  node: NodeProto,
  id: string,
  kind: Exclude<QdqKind, "weighted">,
  constants: ConstantIndex,
  graph: GraphProto,
  isActivation: (name: string | undefined) => name is string,
  skips: SkipLog,
): QdqNodePlan | undefined {
  const plan: QdqNodePlan = { node, id, kind, activations: [], constants: [], outputs: [] };
  if (kind === "elementwise") {
    for (const [slot, name] of node.input.entries()) {
      const ref = name ? constants.resolve(graph, name) : undefined;
      if (ref && ref.tensor.dataType === T.FLOAT) plan.constants.push({ ref, slot });
      else if (isActivation(name)) plan.activations.push(name);
      else {
        skips.skip(id, "an input is neither a float32 value nor a float32 constant");
        return undefined;
      }
    }
    if (plan.activations.length === 0) {
      skips.skip(id, "every input is a constant");
      return undefined;
    }
    return plan;
  }
  if (node.opType === "MaxPool" && node.output.length > 1) {
    skips.skip(id, "MaxPool with indices output");
    return undefined;
  }
  plan.activations = [node.input[0]!];
  return plan;
}
