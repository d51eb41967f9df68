import { TensorProto_DataType, type GraphProto, type NodeProto } from "onnx-buf";
import { dtypeCatalog } from "../../core/dtypes.js";
import { countNodeMacs, macOps } from "./count-macs.js";
import { constantNodeFacts, declaredDims, mergeDeclared, tensorFacts, type ConstantInfo } from "./graph-facts.js";
import { childScopes, nodeLabel, rootScope, walkNodes, type GraphScope } from "./graph-walk.js";
import { inferNodeOutputs } from "./shape-inference.js";
import { onnxDataTypeToDtype, tensorElementCount } from "./tensor-data.js";
import { isNumericDims, product, type Dim, type ValueFacts } from "./value-facts.js";

export interface MacTally {
  macs: number;
  nodes: number;
}

export interface QuantizableTally {
  nodes: number;
  /** Nodes with at least one floating-point constant input (initializer or Constant). */
  nodesWithConstantWeights: number;
  /** Of those, nodes whose weights are already integers behind a DequantizeLinear (a QDQ model). */
  nodesWithQuantizedWeights: number;
  /** Elements of those floating-point constant inputs. */
  weightElements: number;
  /** Of those, elements already stored as integers behind a DequantizeLinear (a QDQ model). */
  quantizedWeightElements: number;
}

export interface GraphAnalysis {
  macs: number;
  macsByOp: Map<string, MacTally>;
  resolvedMacNodes: number;
  /** Paths of MatMul/Gemm/Conv/ConvTranspose nodes whose shapes stayed unknown (or that sit in a loop body). */
  unresolvedMacNodes: string[];
  quantizable: Map<string, QuantizableTally>;
  /** MatMul → Softmax → MatMul chains over activations (self-attention), plus fused attention ops. */
  attentionPatterns: number;
  /** Largest total of simultaneously live main-graph activations, at 4 bytes per element. */
  peakActivationBytes: number;
  unresolvedActivations: number;
}

/** Ops whose constant inputs are weights a quantizer acts on; Gather counts only its data (embedding table). */
export const quantizableOps = new Set([
  "MatMul", "Gemm", "Conv", "ConvTranspose", "Gather", "LSTM", "GRU", "RNN", "Attention", "MultiHeadAttention", "EmbedLayerNormalization",
]);
const fusedAttentionOps = new Set(["Attention", "MultiHeadAttention", "GroupQueryAttention", "PackedAttention", "SparseAttention"]);
// QuantizeLinear/DequantizeLinear: a QDQ model wraps the attention's activations in pairs.
const attentionPassThrough = new Set(["Add", "Mul", "Div", "Sub", "Where", "Cast", "Dropout", "QuantizeLinear", "DequantizeLinear"]);
const softmaxReaders = new Set(["Cast", "Dropout", "QuantizeLinear", "DequantizeLinear"]);
const bytesPerActivationElement = 4;

class Env {
  readonly facts = new Map<string, ValueFacts>();
  readonly constants = new Map<string, ConstantInfo>();
  constructor(readonly parent?: Env) {}
  fact(name: string): ValueFacts | undefined {
    return this.facts.get(name) ?? this.parent?.fact(name);
  }
  constant(name: string): ConstantInfo | undefined {
    return this.constants.get(name) ?? this.parent?.constant(name);
  }
}

interface ScopeResult {
  macs: number;
  macsByOp: Map<string, MacTally>;
  resolved: number;
  unresolved: string[];
  outputs: (ValueFacts | undefined)[];
}

interface Accumulator {
  quantizable: Map<string, QuantizableTally>;
  attentionPatterns: number;
}

function isFloat(dataType: number): boolean {
  const dtype = onnxDataTypeToDtype(dataType);
  return dtype !== undefined && dtypeCatalog[dtype].float && !dtype.startsWith("complex");
}

function opKey(node: NodeProto): string {
  return node.domain === "" || node.domain === "ai.onnx" ? node.opType : `${node.domain}.${node.opType}`;
}

/**
 * A DequantizeLinear of a constant (a QDQ model's int8 weight) is a constant float weight to the ops that read
 * it, stored as the integer type: so a quantized model's Convs still have weights, and those are not activations.
 */
function registerDequantizedWeight(node: NodeProto, env: Env): void {
  if (node.opType !== "DequantizeLinear" || !["", "ai.onnx", "com.microsoft"].includes(node.domain)) return;
  const stored = env.constant(node.input[0] ?? "");
  const output = node.output[0];
  if (stored && output) env.constants.set(output, { dataType: TensorProto_DataType.FLOAT, elementCount: stored.elementCount, storedAs: stored.dataType });
}

function tallyQuantizable(node: NodeProto, env: Env, acc: Accumulator): void {
  if (!quantizableOps.has(node.opType)) return;
  const weightInputs = node.opType === "Gather" ? node.input.slice(0, 1) : node.input;
  let elements = 0;
  let quantized = 0;
  let found = false;
  for (const name of weightInputs) {
    const constant = name === "" ? undefined : env.constant(name);
    if (constant && isFloat(constant.dataType)) {
      elements += constant.elementCount;
      if (constant.storedAs !== undefined) quantized += constant.elementCount;
      found = true;
    }
  }
  if (node.opType === "Gather" && !found) return;
  const key = opKey(node);
  const tally = acc.quantizable.get(key) ?? { nodes: 0, nodesWithConstantWeights: 0, nodesWithQuantizedWeights: 0, weightElements: 0, quantizedWeightElements: 0 };
  tally.nodes += 1;
  if (found) tally.nodesWithConstantWeights += 1;
  if (quantized > 0) tally.nodesWithQuantizedWeights += 1;
  tally.weightElements += elements;
  tally.quantizedWeightElements += quantized;
  acc.quantizable.set(key, tally);
}

/** Self-attention: Softmax fed (through masks/scales) by an activation×activation MatMul and feeding one. */
function countAttention(graph: GraphProto, env: Env): number {
  const producer = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  for (const node of graph.node) {
    for (const output of node.output) producer.set(output, node);
    for (const input of node.input) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  }
  const dynamicMatMul = (node: NodeProto | undefined) =>
    node?.opType === "MatMul" && node.input.every((name) => env.constant(name) === undefined);
  let count = 0;
  for (const node of graph.node) {
    if (fusedAttentionOps.has(node.opType)) count += 1;
    if (node.opType !== "Softmax") continue;
    let back = producer.get(node.input[0] ?? "");
    for (let step = 0; step < 6 && back && attentionPassThrough.has(back.opType); step++) {
      back = back.input.map((name) => producer.get(name)).find((p) => p && (p.opType === "MatMul" || attentionPassThrough.has(p.opType)));
    }
    let forward = consumers.get(node.output[0] ?? "") ?? [];
    for (let step = 0; step < 3 && forward.some((n) => softmaxReaders.has(n.opType)); step++) {
      forward = forward.flatMap((n) => (softmaxReaders.has(n.opType) ? (consumers.get(n.output[0] ?? "") ?? []) : [n]));
    }
    if (dynamicMatMul(back) && forward.some(dynamicMatMul)) count += 1;
  }
  return count;
}

function addMacs(into: ScopeResult, from: ScopeResult): void {
  into.macs += from.macs;
  into.resolved += from.resolved;
  into.unresolved.push(...from.unresolved);
  for (const [op, tally] of from.macsByOp) {
    const current = into.macsByOp.get(op) ?? { macs: 0, nodes: 0 };
    into.macsByOp.set(op, { macs: current.macs + tally.macs, nodes: current.nodes + tally.nodes });
  }
}

/** Branch outputs agree position by position, else unknown. */
function joinFacts(a: ValueFacts | undefined, b: ValueFacts | undefined): ValueFacts | undefined {
  if (!a?.dims || !b?.dims || a.dims.length !== b.dims.length) return {};
  return { dims: a.dims.map((d, i) => (d === b.dims![i] ? d : null)) };
}

function analyzeSubgraphs(node: NodeProto, children: GraphScope[], env: Env, acc: Accumulator, result: ScopeResult): (ValueFacts | undefined)[] | undefined {
  const branches = children.map((child) => analyzeScope(child, new Env(env), acc));
  if (node.opType === "If" && branches.length === 2) {
    const [a, b] = branches as [ScopeResult, ScopeResult];
    const condition = env.fact(node.input[0] ?? "")?.values;
    if (condition?.length === 1) {
      // The condition is known from shape arithmetic: only that branch runs.
      const thenIsFirst = children[0]?.owner?.attribute === "then_branch";
      const taken = (condition[0] !== 0) === thenIsFirst ? a : b;
      addMacs(result, taken);
      return taken.outputs;
    }
    // One branch runs: count the costlier one.
    addMacs(result, a.macs >= b.macs ? a : b);
    return a.outputs.map((facts, i) => joinFacts(facts, b.outputs[i]));
  }
  // Loop/Scan bodies run an unknown number of times: all their MAC nodes are unresolved.
  for (const child of children) {
    for (const visit of walkNodes(child)) if (macOps.has(visit.node.opType)) result.unresolved.push(visit.path);
  }
  return undefined;
}

function analyzeScope(scope: GraphScope, env: Env, acc: Accumulator): ScopeResult {
  const graph = scope.graph;
  const declared = new Map(graph.valueInfo.map((info) => [info.name, declaredDims(info)]));
  for (const output of graph.output) declared.set(output.name, declaredDims(output));
  for (const input of graph.input) if (!env.facts.has(input.name)) env.facts.set(input.name, { dims: declaredDims(input) });
  for (const tensor of graph.initializer) {
    env.facts.set(tensor.name, tensorFacts(tensor));
    env.constants.set(tensor.name, { dataType: tensor.dataType, elementCount: tensorElementCount(tensor) });
  }
  const result: ScopeResult = { macs: 0, macsByOp: new Map(), resolved: 0, unresolved: [], outputs: [] };
  graph.node.forEach((node, index) => {
    const path = scope.path === "" ? nodeLabel(node, index) : `${scope.path}/${nodeLabel(node, index)}`;
    const output0 = node.output[0] ?? "";
    if (node.opType === "Constant" && (node.domain === "" || node.domain === "ai.onnx")) {
      const constant = constantNodeFacts(node);
      if (constant) {
        env.facts.set(output0, constant.facts);
        env.constants.set(output0, constant.constant);
      }
      return;
    }
    const children = childScopes(scope, node, index);
    const fromBranches = children.length > 0 ? analyzeSubgraphs(node, children, env, acc, result) : undefined;
    const inferred = fromBranches ?? inferNodeOutputs(node, (name) => env.fact(name));
    node.output.forEach((name, i) => {
      const facts = mergeDeclared(inferred[i], declared.get(name));
      if (name !== "" && facts) env.facts.set(name, facts);
    });
    registerDequantizedWeight(node, env);
    tallyQuantizable(node, env, acc);
    if (macOps.has(node.opType) && (node.domain === "" || node.domain === "ai.onnx")) {
      const macs = countNodeMacs(node, node.input.map((name) => env.fact(name)?.dims), env.fact(output0)?.dims);
      if (macs === undefined) {
        result.unresolved.push(path);
      } else {
        result.macs += macs;
        result.resolved += 1;
        const tally = result.macsByOp.get(node.opType) ?? { macs: 0, nodes: 0 };
        result.macsByOp.set(node.opType, { macs: tally.macs + macs, nodes: tally.nodes + 1 });
      }
    }
  });
  acc.attentionPatterns += countAttention(graph, env);
  result.outputs = graph.output.map((output) => env.fact(output.name));
  return result;
}

/** Peak of simultaneously live activations in node order (values freed after their last reader). */
function peakActivations(graph: GraphProto, env: Env): { peakBytes: number; unresolved: number } {
  const lastUse = new Map<string, number>();
  graph.node.forEach((node, index) => {
    for (const name of node.input) lastUse.set(name, index);
    for (const child of childScopes(rootScope(graph), node, index)) {
      for (const visit of walkNodes(child)) for (const name of visit.node.input) lastUse.set(name, index);
    }
  });
  for (const output of graph.output) lastUse.set(output.name, graph.node.length);
  let unresolved = 0;
  const sizeOf = (name: string): number => {
    const dims: Dim[] | undefined = env.facts.get(name)?.dims;
    if (isNumericDims(dims)) return product(dims) * bytesPerActivationElement;
    unresolved += 1;
    return 0;
  };
  const live = new Map<string, number>();
  for (const input of graph.input) if (!env.constants.has(input.name)) live.set(input.name, sizeOf(input.name));
  let current = [...live.values()].reduce((a, b) => a + b, 0);
  let peak = current;
  graph.node.forEach((node, index) => {
    if (node.opType === "Constant") return;
    for (const name of node.output) {
      // A dequantized weight (QDQ) is a weight, not an activation: onnxruntime fuses it into the integer kernel.
      if (name === "" || live.has(name) || env.constants.has(name)) continue;
      const size = sizeOf(name);
      live.set(name, size);
      current += size;
    }
    peak = Math.max(peak, current);
    for (const [name, size] of live) {
      if ((lastUse.get(name) ?? index) <= index) {
        live.delete(name);
        current -= size;
      }
    }
  });
  return { peakBytes: peak, unresolved };
}

/**
 * Propagate shapes through the graph (subgraphs included) and gather MACs, the quantizable-op
 * inventory, attention evidence and an activation-memory figure. `inputDims` replaces the
 * declared dims of main-graph inputs (shape overrides).
 */
export function analyzeOnnxGraph(graph: GraphProto, inputDims: ReadonlyMap<string, Dim[]>): GraphAnalysis {
  const env = new Env();
  for (const [name, dims] of inputDims) env.facts.set(name, { dims });
  const acc: Accumulator = { quantizable: new Map(), attentionPatterns: 0 };
  const result = analyzeScope(rootScope(graph), env, acc);
  const activations = peakActivations(graph, env);
  return {
    macs: result.macs,
    macsByOp: result.macsByOp,
    resolvedMacNodes: result.resolved,
    unresolvedMacNodes: result.unresolved,
    quantizable: acc.quantizable,
    attentionPatterns: acc.attentionPatterns,
    peakActivationBytes: activations.peakBytes,
    unresolvedActivations: activations.unresolved,
  };
}
