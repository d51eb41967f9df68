import { TensorProto_DataType as T, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from "onnx-buf";
import { subgraphsOf } from "../../formats/onnx/graph-walk.js";
import { attributeInt } from "../../formats/onnx/node-attributes.js";
import { createTensorProto } from "../../formats/onnx/tensor-data.js";
import { readFloat32, tensorDims } from "./float-tensors.js";
import { ConstantIndex, namesReadUnder, type NameAllocator } from "./graph-edit.js";

export interface PrepareCounts {
  /** BatchNormalization, and Mul/Add by per-channel or scalar constants, folded into the preceding Conv. */
  affinesFolded: number;
  divisionsToProducts: number;
}

function consumerCounts(graph: GraphProto): Map<string, number> {
  const counts = new Map<string, number>();
  for (const node of graph.node) for (const name of node.input) if (name) counts.set(name, (counts.get(name) ?? 0) + 1);
  for (const output of graph.output) counts.set(output.name, (counts.get(output.name) ?? 0) + 1);
  // Reads inside a node's subgraphs count too: a fold must not rename what an If branch reads.
  for (const node of graph.node) for (const { graph: sub } of subgraphsOf(node)) for (const name of namesReadUnder(sub)) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

function isDefaultDomain(node: NodeProto): boolean {
  return node.domain === "" || node.domain === "ai.onnx";
}

/**
 * A constant's values as one per output channel of a Conv whose output has `rank` dimensions
 * ([N, C, spatial…]): a single value (broadcast) or a tensor whose only non-1 dimension is C.
 */
function perChannel(values: Float32Array, dims: readonly number[], rank: number, channels: number): Float32Array | undefined {
  if (values.length === 1) return new Float32Array(channels).fill(values[0]!);
  if (values.length !== channels || dims.length > rank) return undefined;
  const channelAxis = 1 - (rank - dims.length);
  return dims.every((d, axis) => d === 1 || axis === channelAxis) ? values : undefined;
}

/**
 * Rewrite the float graph into the form static int8 quantizes best, as onnxruntime's quantization
 * pre-processing does: BatchNormalization, and Mul/Add by a scalar or per-channel constant (the
 * learnable affine blocks of PP-LCNet), after a Conv/ConvTranspose folded into its weights and
 * bias (with a QDQ weight onnxruntime's own Conv+BN fusion no longer applies, and each left-over
 * elementwise op would cost an int8 kernel of its own); division by a constant turned into
 * multiplication by its reciprocal (Div has no int8 kernel; Mul has). Main graph only; the model
 * computes the same function.
 */
export function prepareForQdq(model: ModelProto, names: NameAllocator): PrepareCounts {
  const graph = model.graph!;
  const constants = new ConstantIndex(model);
  const consumers = consumerCounts(graph);
  const producers = new Map<string, NodeProto>();
  for (const node of graph.node) for (const output of node.output) producers.set(output, node);
  const counts: PrepareCounts = { affinesFolded: 0, divisionsToProducts: 0 };
  const removed = new Set<NodeProto>();
  // Tensors written here (folded weights and biases) are not in the index: a chain of affines
  // after one Conv (PP-LCNet's Mul then Add) folds step by step into the same weights.
  const written = new Map<string, TensorProto>();
  const constant = (name: string | undefined) => {
    const tensor = name ? (written.get(name) ?? constants.resolve(graph, name)?.tensor) : undefined;
    return tensor && tensor.dataType === T.FLOAT ? { tensor } : undefined;
  };
  const addFloat = (base: string, dims: number[], data: Float32Array): string => {
    const name = names.allocate(base);
    const tensor = createTensorProto(name, "float32", dims, data);
    graph.initializer.push(tensor);
    written.set(name, tensor);
    return name;
  };

  for (const node of graph.node) {
    if (node.opType !== "Div" || !isDefaultDomain(node)) continue;
    const divisor = constant(node.input[1]);
    if (!divisor) continue;
    const values = readFloat32(divisor.tensor);
    if (values.some((x) => x === 0 || !Number.isFinite(x))) continue;
    node.opType = "Mul";
    node.input[1] = addFloat(`${node.input[1]}_reciprocal`, tensorDims(divisor.tensor), values.map((x) => 1 / x));
    counts.divisionsToProducts++;
  }

  for (const node of graph.node) {
    if (!isDefaultDomain(node) || node.output.length !== 1 || !["BatchNormalization", "Mul", "Add"].includes(node.opType)) continue;
    const constantSlot = node.opType === "BatchNormalization" ? -1 : constant(node.input[1]) ? 1 : constant(node.input[0]) ? 0 : -1;
    if (node.opType !== "BatchNormalization" && constantSlot < 0) continue;
    const dataInput = node.input[constantSlot === 0 ? 1 : 0] ?? "";
    const conv = producers.get(dataInput);
    if (!conv || removed.has(conv) || !isDefaultDomain(conv) || (conv.opType !== "Conv" && conv.opType !== "ConvTranspose")) continue;
    if (consumers.get(conv.output[0]!) !== 1) continue;
    // ConvTranspose weights are [C_in, C_out / group, …]: only group 1 keeps the output channel on one axis.
    if (conv.opType === "ConvTranspose" && attributeInt(conv, "group", 1) !== 1) continue;
    const weight = constant(conv.input[1]);
    const bias = conv.input[2] ? constant(conv.input[2]) : undefined;
    if (!weight || (conv.input[2] && !bias)) continue;
    const dims = tensorDims(weight.tensor);
    const axis = conv.opType === "Conv" ? 0 : 1;
    const channels = dims[axis]!;
    const affine = affineOf(node, constantSlot, constant, dims.length, channels);
    if (!affine) continue;
    const w = readFloat32(weight.tensor);
    const folded = new Float32Array(w.length);
    let inner = 1;
    for (let d = axis + 1; d < dims.length; d++) inner *= dims[d]!;
    for (let i = 0; i < w.length; i++) folded[i] = w[i]! * affine.scale[Math.floor(i / inner) % channels]!;
    const oldBias = bias ? readFloat32(bias.tensor) : new Float32Array(channels);
    if (oldBias.length !== channels) continue;
    const newBias = new Float32Array(channels);
    for (let c = 0; c < channels; c++) newBias[c] = oldBias[c]! * affine.scale[c]! + affine.shift[c]!;
    conv.input[1] = addFloat(`${weight.tensor.name}_folded`, dims, folded);
    conv.input[2] = addFloat(`${node.name || node.output[0]}_folded_bias`, [channels], newBias);
    conv.output[0] = node.output[0]!;
    producers.set(node.output[0]!, conv);
    removed.add(node);
    counts.affinesFolded++;
  }
  graph.node = graph.node.filter((node) => !removed.has(node));
  return counts;
}

/** y = x · scale + shift per output channel, for a BatchNormalization or a Mul/Add by a constant. */
function affineOf(
  node: NodeProto,
  constantSlot: number,
  constant: (name: string | undefined) => { tensor: Parameters<typeof readFloat32>[0] } | undefined,
  rank: number,
  channels: number,
): { scale: Float32Array; shift: Float32Array } | undefined {
  if (node.opType === "BatchNormalization") {
    const refs = [1, 2, 3, 4].map((slot) => constant(node.input[slot]));
    if (refs.some((ref) => !ref)) return undefined;
    const [g, b, m, v] = refs.map((ref) => readFloat32(ref!.tensor));
    if ([g, b, m, v].some((values) => values!.length !== channels)) return undefined;
    const epsilon = node.attribute.find((a) => a.name === "epsilon")?.f ?? 1e-5;
    const scale = new Float32Array(channels);
    const shift = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      scale[c] = g![c]! / Math.sqrt(v![c]! + epsilon);
      shift[c] = b![c]! - m![c]! * scale[c]!;
    }
    return { scale, shift };
  }
  const ref = constant(node.input[constantSlot]);
  if (!ref) return undefined;
  const values = perChannel(readFloat32(ref.tensor), tensorDims(ref.tensor), rank, channels);
  if (!values) return undefined;
  return node.opType === "Mul" ? { scale: values, shift: new Float32Array(channels) } : { scale: new Float32Array(channels).fill(1), shift: values };
}
