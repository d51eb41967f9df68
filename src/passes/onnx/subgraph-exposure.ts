import type { GraphProto, ModelProto, NodeProto } from "onnx-buf";
import { walkGraphs, type GraphScope } from "../../formats/onnx/graph-walk.js";
import { createTensorProto } from "../../formats/onnx/tensor-data.js";
import { floatOutput } from "./activation-capture.js";
import { makeNode, tensorAttribute, type NameAllocator } from "./graph-edit.js";

/** Where subgraph values can be read from the main graph during a calibration run. */
export interface ExposedSubgraphValues {
  /** Subgraph value → the main-graph value carrying it (empty where its branch did not run). */
  aliases: Map<string, string>;
  /** Put the model back as it was. */
  restore(): void;
}

/** The scope whose nodes produce each value (outputs of nodes only: graph inputs and constants are not activations). */
function producerScopes(model: ModelProto): Map<string, GraphScope> {
  const scopes = new Map<string, GraphScope>();
  for (const scope of walkGraphs(model.graph!)) for (const node of scope.graph.node) for (const output of node.output) if (output) scopes.set(output, scope);
  return scopes;
}

/**
 * Whether the values of `scope` can be threaded out to the main graph: every graph between it and the
 * main graph is an If branch. A Loop or Scan body runs many times (or none) per run, so its values have
 * no single tensor to hand out.
 */
export function reachableFromMain(scope: GraphScope): boolean {
  for (let s: GraphScope | undefined = scope; s?.owner; s = s.owner.scope) {
    const { node } = s.owner;
    if (node.opType !== "If" || (node.domain !== "" && node.domain !== "ai.onnx")) return false;
  }
  return true;
}

/**
 * onnxruntime hands back only main-graph values, so a value inside an If branch is made one: it is added
 * as an extra output of its branch (the other branch returns an empty float tensor in its place) and of
 * the If node, level by level up to the main graph. The branch that did not run yields an empty tensor,
 * which calibration ignores. Values in Loop/Scan bodies or produced in the main graph get no alias.
 */
export function exposeSubgraphValues(model: ModelProto, names: readonly string[], allocator: NameAllocator): ExposedSubgraphValues {
  const scopes = producerScopes(model);
  const undo: (() => void)[] = [];
  const push = <T>(list: T[], item: T) => {
    list.push(item);
    undo.push(() => list.splice(list.indexOf(item), 1));
  };
  // One Constant per use: a graph output listed twice under one name is not valid ONNX.
  const emptyTensor = (graph: GraphProto): string => {
    const name = allocator.allocate("calibration_empty");
    const node: NodeProto = makeNode({ opType: "Constant", name: allocator.allocate("calibration_empty_Constant"), inputs: [], outputs: [name], attributes: [tensorAttribute("value", createTensorProto(name, "float32", [0], new Float32Array(0)))] });
    push(graph.node, node);
    return name;
  };

  const aliases = new Map<string, string>();
  for (const name of new Set(names)) {
    const start = scopes.get(name);
    if (!start?.owner || !reachableFromMain(start)) continue;
    let value = name;
    for (let scope: GraphScope = start; scope.owner; scope = scope.owner.scope) {
      const ifNode = scope.owner.node;
      const branches = ifNode.attribute.filter((a) => a.name === "then_branch" || a.name === "else_branch");
      for (const branch of branches) {
        const graph = branch.g!;
        push(graph.output, floatOutput(graph === scope.graph ? value : emptyTensor(graph)));
      }
      const carried = allocator.allocate(`${name}_from_${ifNode.name || "If"}`);
      push(ifNode.output, carried);
      value = carried;
    }
    aliases.set(name, value);
  }
  return {
    aliases,
    restore: () => {
      for (const step of undo.reverse()) step();
    },
  };
}
