import { TensorProto_DataType as T, type GraphProto, type NodeProto, type ValueInfoProto } from "onnx-buf";
import { constantNodeDataType } from "./graph-edit.js";

/**
 * Element types of every value, per graph (subgraphs see their outer scopes). Seeded from declared
 * types (graph inputs/outputs, value_info, initializers, Constant nodes) and propagated in node
 * order with each op's type rule; passes need it to know which values are float (what fp16
 * converts, what calibration exposes) without running shape inference.
 */
export class ElementTypes {
  private readonly types = new Map<string, number>();

  constructor(readonly graph: GraphProto, readonly parent?: ElementTypes) {}

  get(name: string): number | undefined {
    return this.types.get(name) ?? this.parent?.get(name);
  }

  set(name: string, dataType: number): void {
    if (name !== "" && dataType !== T.UNDEFINED) this.types.set(name, dataType);
  }

  isFloat32(name: string): boolean {
    return this.get(name) === T.FLOAT;
  }
}

export function declaredElementType(info: ValueInfoProto): number | undefined {
  const type = info.type?.value;
  return type?.case === "tensorType" ? type.value.elemType : undefined;
}

function intAttribute(node: NodeProto, name: string): number | undefined {
  const attribute = node.attribute.find((a) => a.name === name);
  return attribute ? Number(attribute.i) : undefined;
}

const boolOutputOps = new Set(["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Not", "And", "Or", "Xor", "IsNaN", "IsInf"]);
const int64OutputOps = new Set(["Shape", "Size", "ArgMax", "ArgMin", "NonZero", "NonMaxSuppression"]);

/** Output element types of one node, from its inputs' types and attributes; undefined where unknown. */
function inferNode(node: NodeProto, types: ElementTypes, subgraphTypes: Map<NodeProto, ElementTypes[]>): (number | undefined)[] {
  const input = (i: number) => (node.input[i] ? types.get(node.input[i]!) : undefined);
  const all = (type: number | undefined) => node.output.map(() => type);
  if (node.domain === "" || node.domain === "ai.onnx") {
    if (boolOutputOps.has(node.opType)) return all(T.BOOL);
    if (int64OutputOps.has(node.opType)) return all(T.INT64);
    switch (node.opType) {
      case "Constant":
        return [constantNodeDataType(node)];
      case "Cast":
        return [intAttribute(node, "to")];
      case "CastLike":
        return [input(1)];
      case "ConstantOfShape": {
        const tensor = node.attribute.find((a) => a.name === "value")?.t;
        return [tensor ? tensor.dataType : T.FLOAT];
      }
      case "RandomNormal":
      case "RandomUniform":
        return [intAttribute(node, "dtype") ?? T.FLOAT];
      case "RandomNormalLike":
      case "RandomUniformLike":
      case "EyeLike":
        return [intAttribute(node, "dtype") ?? input(0)];
      case "Multinomial":
        return [intAttribute(node, "dtype") ?? T.INT32];
      case "Where":
        return [input(1)];
      case "OneHot":
        return [input(2)];
      case "TopK":
        return [input(0), T.INT64];
      case "Unique":
        return [input(0), T.INT64, T.INT64, T.INT64];
      case "MaxPool":
        return [input(0), T.INT64];
      case "QuantizeLinear":
        return [node.input[2] ? input(2) : T.UINT8];
      case "DequantizeLinear":
        return [node.input[1] ? input(1) : T.FLOAT];
      case "DynamicQuantizeLinear":
        return [T.UINT8, T.FLOAT, T.UINT8];
      case "MatMulInteger":
      case "ConvInteger":
        return all(T.INT32);
      case "If":
      case "Loop":
      case "Scan": {
        const branch = subgraphTypes.get(node)?.[0];
        const outputs = branch?.graph.output ?? [];
        // Loop outputs: carried values then scan outputs, same order as the body outputs after `cond`.
        const offset = node.opType === "Loop" ? 1 : 0;
        return node.output.map((_, i) => {
          const declared = outputs[i + offset];
          return declared ? declaredElementType(declared) ?? branch?.get(declared.name) : undefined;
        });
      }
      default:
        break;
    }
  }
  if (node.domain === "com.microsoft") {
    if (node.opType === "DynamicQuantizeMatMul" || node.opType === "MatMulNBits") return [input(0)];
    if (node.opType === "QuantizeLinear") return [node.input[2] ? input(2) : T.UINT8];
    if (node.opType === "DequantizeLinear") return [input(1)];
  }
  // Most ops (elementwise, Conv, MatMul, Reshape, Concat, Gather, Slice, LSTM, norms…): outputs take the first input's type.
  const first = node.input.map((name) => (name ? types.get(name) : undefined)).find((t) => t !== undefined);
  return all(first);
}

/** Infer element types for a graph and, recursively, for the subgraphs its nodes hold. */
export function inferElementTypes(graph: GraphProto, parent?: ElementTypes): { types: ElementTypes; subgraphs: Map<GraphProto, ElementTypes> } {
  const types = new ElementTypes(graph, parent);
  const subgraphs = new Map<GraphProto, ElementTypes>();
  for (const info of [...graph.input, ...graph.valueInfo, ...graph.output]) {
    const declared = declaredElementType(info);
    if (declared !== undefined) types.set(info.name, declared);
  }
  for (const tensor of graph.initializer) types.set(tensor.name, tensor.dataType);
  for (const node of graph.node) {
    const nodeSubgraphs: ElementTypes[] = [];
    for (const attribute of node.attribute) {
      for (const sub of [attribute.g, ...attribute.graphs]) {
        if (!sub) continue;
        const inner = inferElementTypes(sub, types);
        nodeSubgraphs.push(inner.types);
        subgraphs.set(sub, inner.types);
        for (const [g, t] of inner.subgraphs) subgraphs.set(g, t);
      }
    }
    const outputs = inferNode(node, types, new Map([[node, nodeSubgraphs]]));
    node.output.forEach((name, i) => {
      if (types.get(name) !== undefined && name !== "") return;
      const type = outputs[i];
      if (type !== undefined) types.set(name, type);
    });
  }
  return { types, subgraphs };
}
