import { TensorProto_DataType as T, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from "onnx-buf";
import { subgraphsOf } from "../../formats/onnx/graph-walk.js";
import { attributeInt, attributeInts, attributeString } from "../../formats/onnx/node-attributes.js";
import { createTensorProto } from "../../formats/onnx/tensor-data.js";
import { readFloat32, tensorDims } from "./float-tensors.js";
import { ConstantIndex, intAttribute, makeNode, namesReadUnder, type NameAllocator } from "./graph-edit.js";

export interface PrepareCounts {
  /** BatchNormalization, and Mul/Add by per-channel or scalar constants, folded into the preceding Conv. */
  affinesFolded: number;
  divisionsToProducts: number;
  /** ConvTranspose with kernel = stride and no padding rewritten as a 1×1 Conv and DepthToSpace. */
  transposedConvsAsConv: number;
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
 * multiplication by its reciprocal (Div has no int8 kernel; Mul has); a ConvTranspose with kernel =
 * stride and no padding (where `rewritesTransposed` allows) as a 1×1 Conv and DepthToSpace. Main
 * graph only; the model computes the same function.
 */
export function prepareForQdq(model: ModelProto, names: NameAllocator, rewritesTransposed: (node: NodeProto) => boolean = () => true): PrepareCounts {
  const graph = model.graph!;
  const constants = new ConstantIndex(model);
  const consumers = consumerCounts(graph);
  const producers = new Map<string, NodeProto>();
  for (const node of graph.node) for (const output of node.output) producers.set(output, node);
  const counts: PrepareCounts = { affinesFolded: 0, divisionsToProducts: 0, transposedConvsAsConv: 0 };
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
  // After the affine folds, so a BatchNormalization after the ConvTranspose is already in its weights.
  const readers = new Map<string, NodeProto[]>();
  for (const node of graph.node) for (const name of node.input) if (name) readers.set(name, [...(readers.get(name) ?? []), node]);
  const movedRelus = new Set<NodeProto>();
  graph.node = graph.node.flatMap((node) => {
    if (movedRelus.has(node)) return [];
    const rewritten = isDefaultDomain(node) && node.opType === "ConvTranspose" && rewritesTransposed(node) ? transposedConvAsConv(node, constant, addFloat, names) : undefined;
    if (!rewritten) return [node];
    counts.transposedConvsAsConv++;
    // A Relu after it goes before the DepthToSpace (they commute): it then folds into the Conv's quantized output.
    const [conv, depthToSpace] = rewritten as [NodeProto, NodeProto];
    const only = readers.get(node.output[0]!);
    const relu = only?.length === 1 && consumers.get(node.output[0]!) === 1 ? only[0]! : undefined;
    if (!relu || relu.opType !== "Relu" || !isDefaultDomain(relu) || relu.output.length !== 1) return rewritten;
    movedRelus.add(relu);
    const activated = names.allocate(`${conv.output[0]}_relu`);
    const movedRelu = makeNode({ opType: "Relu", name: relu.name, inputs: [conv.output[0]!], outputs: [activated] });
    depthToSpace.input[0] = activated;
    depthToSpace.output[0] = relu.output[0]!;
    return [conv, movedRelu, depthToSpace];
  });
  return counts;
}

/**
 * A 2-D ConvTranspose whose kernel equals its stride (no padding, dilation, output padding or group;
 * DBNet's ×2 upsampling head) writes each input pixel into its own k × k output block, so it is a
 * 1×1 Conv to C_out·k² channels followed by DepthToSpace (DCR: channel (a·k + b)·C_out + c goes to
 * offset (a, b) of channel c). onnxruntime has no int8 ConvTranspose on CPU; the Conv runs as
 * QLinearConv and DepthToSpace moves uint8 values. Same function; undefined when the form differs.
 */
function transposedConvAsConv(
  node: NodeProto,
  constant: (name: string | undefined) => { tensor: TensorProto } | undefined,
  addFloat: (base: string, dims: number[], data: Float32Array) => string,
  names: NameAllocator,
): NodeProto[] | undefined {
  const weight = constant(node.input[1]);
  const bias = node.input[2] ? constant(node.input[2]) : undefined;
  if (!weight || (node.input[2] && !bias) || node.output.length !== 1 || !node.input[0]) return undefined;
  const dims = tensorDims(weight.tensor);
  if (dims.length !== 4) return undefined;
  const [inChannels, outChannels, kh, kw] = dims as [number, number, number, number];
  const kernel = attributeInts(node, "kernel_shape") ?? [kh, kw];
  const strides = attributeInts(node, "strides") ?? [1, 1];
  const zeros = (values: number[] | undefined) => !values || values.every((v) => v === 0);
  const ones = (values: number[] | undefined) => !values || values.every((v) => v === 1);
  const plain =
    kh === kw && kernel[0] === kh && kernel[1] === kw && strides[0] === kh && strides[1] === kw && kh > 1 &&
    attributeInt(node, "group", 1) === 1 && zeros(attributeInts(node, "pads")) && zeros(attributeInts(node, "output_padding")) &&
    ones(attributeInts(node, "dilations")) && !attributeInts(node, "output_shape") && ["NOTSET", "VALID"].includes(attributeString(node, "auto_pad", "NOTSET"));
  if (!plain) return undefined;
  const k = kh;
  const w = readFloat32(weight.tensor);
  const b = bias ? readFloat32(bias.tensor) : undefined;
  if (b && b.length !== outChannels) return undefined;
  const convChannels = outChannels * k * k;
  const convWeight = new Float32Array(convChannels * inChannels);
  const convBias = new Float32Array(convChannels);
  for (let a = 0; a < k; a++) {
    for (let x = 0; x < k; x++) {
      for (let c = 0; c < outChannels; c++) {
        const row = (a * k + x) * outChannels + c;
        convBias[row] = b ? b[c]! : 0;
        for (let i = 0; i < inChannels; i++) convWeight[row * inChannels + i] = w[((i * outChannels + c) * k + a) * k + x]!;
      }
    }
  }
  const base = node.name || node.output[0]!;
  const blocks = names.allocate(`${base}_blocks`);
  const conv = makeNode({
    opType: "Conv",
    name: names.allocate(`${base}_as_conv`),
    inputs: [node.input[0], addFloat(`${weight.tensor.name}_as_conv`, [convChannels, inChannels, 1, 1], convWeight), addFloat(`${base}_as_conv_bias`, [convChannels], convBias)],
    outputs: [blocks],
    attributes: [intAttribute("group", 1)],
  });
  const depthToSpace = makeNode({ opType: "DepthToSpace", name: names.allocate(`${base}_to_space`), inputs: [blocks], outputs: [node.output[0]!], attributes: [intAttribute("blocksize", k)] });
  return [conv, depthToSpace];
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
