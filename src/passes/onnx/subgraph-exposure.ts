import type { GraphProto, ModelProto, NodeProto } from "onnx-buf";
import { walkGraphs, type GraphScope } from "../../formats/onnx/graph-walk.js";
import { createTensorProto } from "../../formats/onnx/tensor-data.js";
import { floatOutput } from "./activation-capture.js";
import { makeNode, tensorAttribute, type NameAllocator } from "./graph-edit.js";

/** Where subgraph values can be read from the main graph during a calibration run. */
export interface ExposedSubgraphValues {
  /** Subgraph value → the main-graph value carrying it (empty where its branch or body did not run). */
  aliases: Map<string, string>;
  /** Put the model back as it was. */
  restore(): void;
}

type Carrier = "If" | "Loop" | "Scan";

function carrierOf(node: NodeProto): Carrier | undefined {
  if (node.domain !== "" && node.domain !== "ai.onnx") return undefined;
  return node.opType === "If" || node.opType === "Loop" || node.opType === "Scan" ? node.opType : undefined;
}

/**
 * The scope that produces each value: outputs of nodes, and the inputs of Loop/Scan bodies (the iteration's
 * state and slices, activations too). Main-graph inputs and constants are not listed.
 */
export function producerScopes(model: ModelProto): Map<string, GraphScope> {
  const scopes = new Map<string, GraphScope>();
  for (const scope of walkGraphs(model.graph!)) {
    if (scope.owner) for (const input of scope.graph.input) scopes.set(input.name, scope);
    for (const node of scope.graph.node) for (const output of node.output) if (output) scopes.set(output, scope);
  }
  return scopes;
}

/** Whether the values of `scope` can be threaded out to the main graph: every graph between them is an If branch or a Loop/Scan body. */
export function reachableFromMain(scope: GraphScope): boolean {
  for (let s: GraphScope | undefined = scope; s?.owner; s = s.owner.scope) if (!carrierOf(s.owner.node)) return false;
  return true;
}

/** How many Loop or Scan bodies `scope` sits inside: each stacks its values over its iterations on the way out. */
function loopLevels(scope: GraphScope): number {
  let levels = 0;
  for (let s: GraphScope | undefined = scope; s?.owner; s = s.owner.scope) {
    const carrier = carrierOf(s.owner.node);
    if (carrier === "Loop" || carrier === "Scan") levels += 1;
  }
  return levels;
}

/** Whether `scope` sits (at any depth) inside a Loop or Scan body, whose values come out stacked over the iterations. */
export function insideLoopBody(scope: GraphScope): boolean {
  return loopLevels(scope) > 0;
}

export interface ExposeOptions {
  /**
   * Called when the value threaded out for `name` comes out of a Loop/Scan body stacked over its iterations
   * (`stacked`) into a graph that is itself inside a Loop/Scan body, where that stack's length may change
   * from one outer iteration to the next: returns what to thread on instead (a scalar reduction of it), its
   * nodes put in that graph through `add` (undone by restore). Without it, stacks are threaded on as they are.
   */
  restack?: (name: string, stacked: string, add: (node: NodeProto) => void) => string;
}

/**
 * onnxruntime hands back only main-graph values, so a subgraph value is made one, level by level up to the
 * main graph:
 * - in an If branch it becomes an extra output of the branch (the other branch returns an empty float
 *   tensor in its place) and of the If node; the branch that did not run yields an empty tensor, which
 *   calibration ignores;
 * - in a Loop or Scan body it becomes an extra scan output, which the runtime stacks over the iterations:
 *   every iteration's values in one tensor, all calibration needs (a body that never ran yields an empty
 *   tensor). A value whose shape changes between iterations cannot be stacked: the run fails.
 * Values in other subgraphs or produced in the main graph get no alias.
 */
export function exposeSubgraphValues(model: ModelProto, names: readonly string[], allocator: NameAllocator, options: ExposeOptions = {}): ExposedSubgraphValues {
  const scopes = producerScopes(model);
  const undo: (() => void)[] = [];
  const push = <T>(list: T[], item: T) => {
    list.push(item);
    undo.push(() => list.splice(list.lastIndexOf(item), 1));
  };
  // One Constant per use: a graph output listed twice under one name is not valid ONNX.
  const emptyTensor = (graph: GraphProto): string => {
    const name = allocator.allocate("calibration_empty");
    const node: NodeProto = makeNode({ opType: "Constant", name: allocator.allocate("calibration_empty_Constant"), inputs: [], outputs: [name], attributes: [tensorAttribute("value", createTensorProto(name, "float32", [0], new Float32Array(0)))] });
    push(graph.node, node);
    return name;
  };
  // A value already among the graph's outputs is copied under a fresh name, for the same reason, and so is
  // one of its inputs (a body's state handed straight out).
  const asNewOutput = (graph: GraphProto, value: string): string => {
    if (!graph.output.some((o) => o.name === value) && !graph.input.some((i) => i.name === value)) return value;
    const copy = allocator.allocate(`${value}_exposed`);
    push(graph.node, makeNode({ opType: "Identity", name: copy, inputs: [value], outputs: [copy] }));
    return copy;
  };

  const aliases = new Map<string, string>();
  for (const name of new Set(names)) {
    const start = scopes.get(name);
    if (!start?.owner || !reachableFromMain(start)) continue;
    let value = name;
    for (let scope: GraphScope = start; scope.owner; scope = scope.owner.scope) {
      const carrier = scope.owner.node;
      if (carrierOf(carrier) === "If") {
        for (const branch of carrier.attribute.filter((a) => a.name === "then_branch" || a.name === "else_branch")) {
          const graph = branch.g!;
          push(graph.output, floatOutput(graph === scope.graph ? asNewOutput(graph, value) : emptyTensor(graph)));
        }
      } else {
        // Loop and Scan list scan outputs last, in both the body's outputs and the node's.
        push(scope.graph.output, floatOutput(asNewOutput(scope.graph, value)));
        // Scan's optional per-scan-output attributes need an entry for the new one (axis 0, forward).
        for (const attribute of carrier.attribute.filter((a) => a.name === "scan_output_axes" || a.name === "scan_output_directions")) push(attribute.ints, 0n);
      }
      const carried = allocator.allocate(`${name}_from_${carrier.name || carrier.opType}`);
      push(carrier.output, carried);
      value = carried;
      const outer = scope.owner.scope;
      if (options.restack && carrierOf(carrier) !== "If" && insideLoopBody(outer)) value = options.restack(name, value, (node) => push(outer.graph.node, node));
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
