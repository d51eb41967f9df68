import { TensorProto_DataType as T, type GraphProto, type ModelProto, type NodeProto } from "onnx-buf";
import { attributeInt } from "../../formats/onnx/node-attributes.js";
import { createTensorProto } from "../../formats/onnx/tensor-data.js";
import { readFloat32, tensorDims } from "./float-tensors.js";
import { ConstantIndex, type NameAllocator } from "./graph-edit.js";

export interface PrepareCounts {
  batchNormsFolded: number;
  divisionsToProducts: number;
}

function consumerCounts(graph: GraphProto): Map<string, number> {
  const counts = new Map<string, number>();
  for (const node of graph.node) for (const name of node.input) if (name) counts.set(name, (counts.get(name) ?? 0) + 1);
  for (const output of graph.output) counts.set(output.name, (counts.get(output.name) ?? 0) + 1);
  return counts;
}

function isDefaultDomain(node: NodeProto): boolean {
  return node.domain === "" || node.domain === "ai.onnx";
}

/**
 * Rewrite the float graph into the form static int8 quantizes best, as onnxruntime's quantization
 * pre-processing does: BatchNormalization after a Conv/ConvTranspose folded into its weights (a
 * QDQ weight hides the Conv from onnxruntime's own Conv+BN fusion, which would leave a float BN
 * after every int8 Conv), and division by a constant turned into multiplication by its reciprocal
 * (Div has no int8 kernel; Mul has). Main graph only; the model computes the same function.
 */
export function prepareForQdq(model: ModelProto, names: NameAllocator): PrepareCounts {
  const graph = model.graph!;
  const constants = new ConstantIndex(model);
  const consumers = consumerCounts(graph);
  const producers = new Map<string, NodeProto>();
  for (const node of graph.node) for (const output of node.output) producers.set(output, node);
  const counts: PrepareCounts = { batchNormsFolded: 0, divisionsToProducts: 0 };
  const removed = new Set<NodeProto>();
  const constant = (name: string | undefined) => {
    const ref = name ? constants.resolve(graph, name) : undefined;
    return ref && ref.tensor.dataType === T.FLOAT ? ref : undefined;
  };
  const addFloat = (base: string, dims: number[], data: Float32Array): string => {
    const name = names.allocate(base);
    graph.initializer.push(createTensorProto(name, "float32", dims, data));
    return name;
  };

  for (const node of graph.node) {
    if (!isDefaultDomain(node)) continue;
    if (node.opType === "BatchNormalization" && node.output.length === 1) {
      const conv = producers.get(node.input[0] ?? "");
      if (!conv || removed.has(conv) || !isDefaultDomain(conv) || (conv.opType !== "Conv" && conv.opType !== "ConvTranspose")) continue;
      if (consumers.get(conv.output[0]!) !== 1 || (consumers.get(conv.input[1] ?? "") ?? 0) !== 1) continue;
      const weight = constant(conv.input[1]);
      const bias = conv.input[2] ? constant(conv.input[2]) : undefined;
      const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((slot) => constant(node.input[slot]));
      if (!weight || (conv.input[2] && !bias) || !gamma || !beta || !mean || !variance) continue;
      const dims = tensorDims(weight.tensor);
      // ConvTranspose weights are [C_in, C_out / group, …]: only group 1 keeps the output channel on one axis.
      const axis = conv.opType === "Conv" ? 0 : 1;
      if (conv.opType === "ConvTranspose" && attributeInt(conv, "group", 1) !== 1) continue;
      const channels = dims[axis]!;
      const [g, b, m, v] = [gamma, beta, mean, variance].map((ref) => readFloat32(ref.tensor));
      if ([g, b, m, v].some((values) => values!.length !== channels)) continue;
      const epsilon = node.attribute.find((a) => a.name === "epsilon")?.f ?? 1e-5;
      const factor = new Float32Array(channels);
      for (let c = 0; c < channels; c++) factor[c] = g![c]! / Math.sqrt(v![c]! + epsilon);
      const w = readFloat32(weight.tensor);
      const folded = new Float32Array(w.length);
      let inner = 1;
      for (let d = axis + 1; d < dims.length; d++) inner *= dims[d]!;
      for (let i = 0; i < w.length; i++) folded[i] = w[i]! * factor[Math.floor(i / inner) % channels]!;
      const oldBias = bias ? readFloat32(bias.tensor) : new Float32Array(channels);
      const newBias = new Float32Array(channels);
      for (let c = 0; c < channels; c++) newBias[c] = (oldBias[c]! - m![c]!) * factor[c]! + b![c]!;
      conv.input[1] = addFloat(`${conv.input[1]}_bn_folded`, dims, folded);
      conv.input[2] = addFloat(`${node.name || node.output[0]}_bias`, [channels], newBias);
      conv.output[0] = node.output[0]!;
      removed.add(node);
      counts.batchNormsFolded++;
    } else if (node.opType === "Div") {
      const divisor = constant(node.input[1]);
      if (!divisor) continue;
      const values = readFloat32(divisor.tensor);
      if (values.some((x) => x === 0 || !Number.isFinite(x))) continue;
      node.opType = "Mul";
      node.input[1] = addFloat(`${node.input[1]}_reciprocal`, tensorDims(divisor.tensor), values.map((x) => 1 / x));
      counts.divisionsToProducts++;
    }
  }
  graph.node = graph.node.filter((node) => !removed.has(node));
  return counts;
}
