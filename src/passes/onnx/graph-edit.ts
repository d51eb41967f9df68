import { create } from "@bufbuild/protobuf";
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorProto_DataType as T,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from "onnx-buf";
import { walkGraphs, walkNodes } from "../../formats/onnx/graph-walk.js";

/** Small helpers the ONNX passes share to rewrite graphs in place. */

export function intAttribute(name: string, value: number): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(value) });
}

export function floatAttribute(name: string, value: number): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.FLOAT, f: value });
}

export function tensorAttribute(name: string, tensor: TensorProto): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.TENSOR, t: tensor });
}

export interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  domain?: string;
  attributes?: AttributeProto[];
}

export function makeNode(spec: NodeSpec): NodeProto {
  return create(NodeProtoSchema, {
    opType: spec.opType,
    input: spec.inputs,
    output: spec.outputs,
    name: spec.name,
    domain: spec.domain ?? "",
    attribute: spec.attributes ?? [],
  });
}

/** The tensor a Constant node produces through its `value` attribute (the form weights use). */
export function constantNodeTensor(node: NodeProto): TensorProto | undefined {
  if (node.opType !== "Constant" || (node.domain !== "" && node.domain !== "ai.onnx")) return undefined;
  return node.attribute.find((a) => a.name === "value")?.t;
}

/** Element type of a Constant node's output, whichever attribute form it uses. */
export function constantNodeDataType(node: NodeProto): number | undefined {
  const tensor = constantNodeTensor(node);
  if (tensor) return tensor.dataType;
  const form = node.attribute[0]?.name ?? "";
  if (form.startsWith("value_float")) return T.FLOAT;
  if (form.startsWith("value_int")) return T.INT64;
  if (form.startsWith("value_string")) return T.STRING;
  return undefined;
}

/** Gives out value and node names that clash with nothing in the model (any graph). */
export class NameAllocator {
  private readonly used = new Set<string>();

  constructor(model: ModelProto) {
    if (!model.graph) return;
    for (const { graph } of walkGraphs(model.graph)) {
      for (const info of [...graph.input, ...graph.output, ...graph.valueInfo]) this.used.add(info.name);
      for (const tensor of graph.initializer) this.used.add(tensor.name);
      for (const node of graph.node) {
        this.used.add(node.name);
        for (const name of [...node.input, ...node.output]) this.used.add(name);
      }
    }
  }

  allocate(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }
}

/** Add `domain` at `version` to the model's opset imports unless it is already imported. */
export function ensureOpsetImport(model: ModelProto, domain: string, version: number): void {
  if (model.opsetImport.some((opset) => opset.domain === domain)) return;
  model.opsetImport.push(create(OperatorSetIdProtoSchema, { domain, version: BigInt(version) }));
}

/** The ai.onnx opset the model imports. */
export function defaultOpsetVersion(model: ModelProto): number {
  const opset = model.opsetImport.find((o) => o.domain === "" || o.domain === "ai.onnx");
  return opset ? Number(opset.version) : 1;
}

/** A constant weight as a pass sees it: where it is stored and which graph holds it. */
export interface ConstantRef {
  tensor: TensorProto;
  kind: "initializer" | "constant-node";
  graph: GraphProto;
  node?: NodeProto;
}

/**
 * Constants visible from each graph (initializers that are not graph inputs, and Constant node
 * outputs), with subgraphs seeing their outer scopes, as ONNX scoping rules say.
 */
export class ConstantIndex {
  private readonly byGraph = new Map<GraphProto, Map<string, ConstantRef>>();
  private readonly parents = new Map<GraphProto, GraphProto>();

  constructor(model: ModelProto) {
    if (!model.graph) return;
    for (const scope of walkGraphs(model.graph)) {
      const graph = scope.graph;
      if (scope.owner) this.parents.set(graph, scope.owner.scope.graph);
      const inputs = new Set(graph.input.map((i) => i.name));
      const local = new Map<string, ConstantRef>();
      for (const tensor of graph.initializer) {
        if (!inputs.has(tensor.name)) local.set(tensor.name, { tensor, kind: "initializer", graph });
      }
      for (const node of graph.node) {
        const attribute = node.attribute.find((a) => a.name === "value");
        if (node.opType === "Constant" && (node.domain === "" || node.domain === "ai.onnx") && attribute?.t && node.output[0]) {
          local.set(node.output[0], { tensor: attribute.t, kind: "constant-node", graph, node });
        }
      }
      this.byGraph.set(graph, local);
    }
  }

  resolve(graph: GraphProto, name: string): ConstantRef | undefined {
    for (let g: GraphProto | undefined = graph; g; g = this.parents.get(g)) {
      const found = this.byGraph.get(g)?.get(name);
      if (found) return found;
    }
    return undefined;
  }
}

/** Every name read in `graph` or in any subgraph below it (node inputs and graph outputs). */
export function namesReadUnder(graph: GraphProto): Set<string> {
  const read = new Set<string>();
  for (const scope of walkGraphs(graph)) {
    for (const output of scope.graph.output) read.add(output.name);
    for (const node of scope.graph.node) for (const input of node.input) if (input !== "") read.add(input);
  }
  return read;
}

/**
 * Drop initializers and Constant nodes nothing reads any more (the float weights a quantizer
 * replaced), in every graph; shared weights still read elsewhere stay. Returns how many went.
 */
export function removeUnusedConstants(model: ModelProto): number {
  if (!model.graph) return 0;
  let removed = 0;
  for (const scope of [...walkGraphs(model.graph)]) {
    const graph = scope.graph;
    const read = namesReadUnder(graph);
    const inputs = new Set(graph.input.map((i) => i.name));
    const keptInitializers = graph.initializer.filter((t) => read.has(t.name) || inputs.has(t.name));
    removed += graph.initializer.length - keptInitializers.length;
    graph.initializer = keptInitializers;
    const keptNodes = graph.node.filter((node) => node.opType !== "Constant" || node.output.some((o) => read.has(o)));
    removed += graph.node.length - keptNodes.length;
    graph.node = keptNodes;
  }
  return removed;
}

/** Node name for reports and exclusion lists: its name, or its first output when unnamed. */
export function nodeId(node: NodeProto): string {
  return node.name !== "" ? node.name : (node.output[0] ?? node.opType);
}

/** Count nodes by op type across all graphs (for logs and tests). */
export function countOps(model: ModelProto): Record<string, number> {
  const counts: Record<string, number> = {};
  if (!model.graph) return counts;
  for (const { node } of walkNodes(model.graph)) counts[node.opType] = (counts[node.opType] ?? 0) + 1;
  return counts;
}
