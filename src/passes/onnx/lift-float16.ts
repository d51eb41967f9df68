import { TensorProto_DataType as T, type GraphProto, type ModelProto, type TensorProto, type ValueInfoProto } from "onnx-buf";
import { walkGraphs } from "../../formats/onnx/graph-walk.js";
import { getTensorData } from "../../formats/onnx/tensor-data.js";
import { convertFromFloat16 } from "../../kernels/float16.js";
import { declaredElementType, inferElementTypes } from "./element-types.js";
import { intAttribute, makeNode, NameAllocator } from "./graph-edit.js";

export interface LiftCounts {
  tensorsLifted: number;
  castsRemoved: number;
}

function liftTensor(tensor: TensorProto): boolean {
  if (tensor.dataType !== T.FLOAT16) return false;
  const values = convertFromFloat16(getTensorData(tensor) as Uint16Array);
  tensor.dataType = T.FLOAT;
  tensor.int32Data = [];
  tensor.rawData = new Uint8Array(values.buffer as ArrayBuffer, values.byteOffset, values.byteLength);
  return true;
}

function setElementType(info: ValueInfoProto, dataType: number): void {
  const type = info.type?.value;
  if (type?.case === "tensorType") type.value.elemType = dataType;
}

function isFloatType(dataType: number | undefined): boolean {
  return dataType === T.FLOAT || dataType === T.FLOAT16;
}

/**
 * Turn a float16 model back into float32 so the int8 quantizers can work on it (models are often
 * distributed in float16): float16 weights are widened exactly, Casts between float16 and float32
 * disappear (or cast to float32 at a model output), internal value types become float32. Model
 * inputs and outputs keep their float16 type behind a Cast, so callers feed the model as before;
 * calibration then runs, and activations are measured, in float32. Returns what changed.
 */
export function liftFloat16(model: ModelProto): LiftCounts {
  const counts: LiftCounts = { tensorsLifted: 0, castsRemoved: 0 };
  const graph = model.graph;
  if (!graph) return counts;
  const scopes = [...walkGraphs(graph)];
  const hasFloat16 = scopes.some(({ graph: g }) =>
    g.initializer.some((t) => t.dataType === T.FLOAT16) ||
    g.node.some((n) => n.attribute.some((a) => a.t?.dataType === T.FLOAT16 || (n.opType === "Cast" && a.name === "to" && Number(a.i) === T.FLOAT16))),
  );
  if (!hasFloat16) return counts;
  const { types, subgraphs } = inferElementTypes(graph);
  const names = new NameAllocator(model);
  for (const { graph: g } of scopes) {
    const typesHere = g === graph ? types : subgraphs.get(g)!;
    const outputs = new Set(g.output.map((o) => o.name));
    const renamed = new Map<string, string>();
    for (const tensor of g.initializer) if (liftTensor(tensor)) counts.tensorsLifted++;
    g.node = g.node.filter((node) => {
      for (const attribute of node.attribute) if (attribute.t && liftTensor(attribute.t)) counts.tensorsLifted++;
      if (node.opType !== "Cast" || (node.domain !== "" && node.domain !== "ai.onnx")) return true;
      const to = node.attribute.find((a) => a.name === "to");
      if (!to || !isFloatType(Number(to.i)) || !isFloatType(typesHere.get(node.input[0] ?? ""))) return true;
      if (Number(to.i) === T.FLOAT16) to.i = BigInt(T.FLOAT);
      if (outputs.has(node.output[0]!)) return true;
      renamed.set(node.output[0]!, renamed.get(node.input[0]!) ?? node.input[0]!);
      counts.castsRemoved++;
      return false;
    });
    for (const node of g.node) node.input.forEach((name, i) => (node.input[i] = renamed.get(name) ?? name));
    for (const info of g.valueInfo) if (declaredElementType(info) === T.FLOAT16) setElementType(info, T.FLOAT);
    if (g !== graph) {
      for (const info of [...g.input, ...g.output]) if (declaredElementType(info) === T.FLOAT16) setElementType(info, T.FLOAT);
    }
  }
  keepFloat16Interface(graph, names);
  return counts;
}

/** Main-graph float16 inputs and outputs stay float16 for callers, with a Cast to/from the float32 inside. */
function keepFloat16Interface(graph: GraphProto, names: NameAllocator): void {
  const head = [];
  for (const input of graph.input) {
    if (declaredElementType(input) !== T.FLOAT16) continue;
    const internal = names.allocate(`${input.name}_float32`);
    for (const node of graph.node) node.input.forEach((name, i) => (node.input[i] = name === input.name ? internal : name));
    head.push(makeNode({ opType: "Cast", name: names.allocate(`${input.name}_to_float32`), inputs: [input.name], outputs: [internal], attributes: [intAttribute("to", T.FLOAT)] }));
  }
  for (const output of graph.output) {
    if (declaredElementType(output) !== T.FLOAT16) continue;
    const producer = graph.node.find((node) => node.output.includes(output.name));
    if (producer?.opType === "Cast") {
      producer.attribute.find((a) => a.name === "to")!.i = BigInt(T.FLOAT16);
      continue;
    }
    const internal = names.allocate(`${output.name}_float32`);
    for (const node of graph.node) node.output.forEach((name, i) => (node.output[i] = name === output.name ? internal : name));
    for (const node of graph.node) node.input.forEach((name, i) => (node.input[i] = name === output.name ? internal : name));
    graph.node.push(makeNode({ opType: "Cast", name: names.allocate(`${output.name}_to_float16`), inputs: [internal], outputs: [output.name], attributes: [intAttribute("to", T.FLOAT16)] }));
  }
  graph.node.unshift(...head);
}
