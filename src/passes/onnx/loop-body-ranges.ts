import type { ModelProto, NodeProto, TensorProto } from "onnx-buf";
import { createTensorProto } from "../../formats/onnx/tensor-data.js";
import type { QuantizationRange } from "../../kernels/linear-quantization.js";
import type { PassContext } from "../pass.js";
import { calibrateRanges } from "./calibrate-ranges.js";
import { intAttribute, makeNode, NameAllocator, tensorAttribute } from "./graph-edit.js";
import { exposeSubgraphValues, producerScopes, reachableFromMain } from "./subgraph-exposure.js";

type Reduction = "ReduceMin" | "ReduceMax";

/**
 * Nodes reducing `input` (any shape, possibly empty) to one scalar: flattened, joined with the reduction's
 * identity (+∞ for a min, −∞ for a max) so that an empty tensor (a body that ran zero times) reduces too.
 */
function guardedReduction(op: Reduction, input: string, allocator: NameAllocator): { nodes: NodeProto[]; output: string } {
  const constant = (base: string, tensor: (name: string) => TensorProto): { node: NodeProto; name: string } => {
    const name = allocator.allocate(base);
    return { name, node: makeNode({ opType: "Constant", name, inputs: [], outputs: [name], attributes: [tensorAttribute("value", tensor(name))] }) };
  };
  const shape = constant(`${input}_flat_shape`, (name) => createTensorProto(name, "int64", [1], BigInt64Array.of(-1n)));
  const identity = constant(`${input}_${op}_identity`, (name) => createTensorProto(name, "float32", [1], Float32Array.of(op === "ReduceMin" ? Infinity : -Infinity)));
  const flat = allocator.allocate(`${input}_flat`);
  const joined = allocator.allocate(`${input}_${op}_joined`);
  const output = allocator.allocate(`${input}_${op}`);
  return {
    output,
    nodes: [
      shape.node,
      identity.node,
      makeNode({ opType: "Reshape", name: flat, inputs: [input, shape.name], outputs: [flat] }),
      makeNode({ opType: "Concat", name: joined, inputs: [flat, identity.name], outputs: [joined], attributes: [intAttribute("axis", 0)] }),
      makeNode({ opType: op, name: output, inputs: [joined], outputs: [output], attributes: [intAttribute("keepdims", 0)] }),
    ],
  };
}

/**
 * Min/max ranges for values of Loop/Scan bodies whose shape changes between iterations, which the runtime
 * cannot stack into one scan output: each is reduced to its min and its max inside its own body, scalars
 * that stack over any number of iterations. In a body nested in another Loop/Scan body those stacks are
 * reduced again in the outer body (their length may change with the outer iteration), level by level, and
 * the main graph's stacks over the calibration runs. Values the body reads from the main graph are
 * calibrated there. Min/max only: percentile and entropy need the values themselves. Values the runtime
 * cannot hand out at all, and those of bodies no calibration sample ran, get no range; the model is left
 * as it was.
 */
export async function calibrateLoopBodyRanges(model: ModelProto, tensors: readonly string[], context: PassContext): Promise<Map<string, QuantizationRange>> {
  const scopes = producerScopes(model);
  const allocator = new NameAllocator(model);
  const added: { nodes: NodeProto[]; node: NodeProto }[] = [];
  const reduced = new Map<string, { min: string; max: string }>();
  const reductionOf = new Map<string, Reduction>();
  const inMain: string[] = [];
  for (const name of new Set(tensors)) {
    const scope = scopes.get(name);
    if (!scope?.owner) {
      inMain.push(name);
      continue;
    }
    if (!reachableFromMain(scope)) continue;
    const reduce = (op: Reduction): string => {
      const { nodes, output } = guardedReduction(op, name, allocator);
      for (const node of nodes) {
        scope.graph.node.push(node);
        added.push({ nodes: scope.graph.node, node });
      }
      reductionOf.set(output, op);
      return output;
    };
    reduced.set(name, { min: reduce("ReduceMin"), max: reduce("ReduceMax") });
  }
  const exposed = exposeSubgraphValues(model, [...reduced.values()].flatMap(({ min, max }) => [min, max]), allocator, {
    restack: (name, stacked, add) => {
      const { nodes, output } = guardedReduction(reductionOf.get(name)!, stacked, allocator);
      nodes.forEach(add);
      return output;
    },
  });
  try {
    const stacked = [...reduced.values()].flatMap(({ min, max }) => [exposed.aliases.get(min), exposed.aliases.get(max)]).filter((name): name is string => name !== undefined);
    const { ranges: found } = await calibrateRanges(model, [...inMain, ...stacked], { method: "minmax" }, context);
    const ranges = new Map<string, QuantizationRange>();
    for (const name of inMain) {
      const range = found.get(name);
      if (range) ranges.set(name, range);
    }
    for (const [name, { min, max }] of reduced) {
      const low = found.get(exposed.aliases.get(min) ?? "")?.min;
      const high = found.get(exposed.aliases.get(max) ?? "")?.max;
      // ±∞ left: the body never ran in any calibration sample.
      if (low !== undefined && high !== undefined && Number.isFinite(low) && Number.isFinite(high)) ranges.set(name, { min: low, max: high });
    }
    return ranges;
  } finally {
    exposed.restore();
    for (const { nodes, node } of added.reverse()) nodes.splice(nodes.lastIndexOf(node), 1);
  }
}
