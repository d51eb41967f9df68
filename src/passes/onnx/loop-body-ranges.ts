import type { ModelProto, NodeProto } from "onnx-buf";
import type { QuantizationRange } from "../../kernels/linear-quantization.js";
import type { PassContext } from "../pass.js";
import { calibrateRanges } from "./calibrate-ranges.js";
import { intAttribute, makeNode, NameAllocator } from "./graph-edit.js";
import { exposeSubgraphValues, loopLevels, producerScopes, reachableFromMain } from "./subgraph-exposure.js";

/**
 * Min/max ranges for values of Loop/Scan bodies whose shape changes between iterations, which the runtime
 * cannot stack into one scan output: each is reduced to its min and its max inside its own body, scalars
 * that stack over any number of iterations, and those are reduced again over the calibration runs. Values
 * the body reads from the main graph are calibrated there. Min/max only: percentile and entropy need the
 * values themselves. Values under two Loop/Scan levels or more get no range (the inner per-iteration
 * scalars stack into vectors whose length may change with the outer iteration), nor do values the
 * runtime cannot hand out at all; the model is left as it was.
 */
export async function calibrateLoopBodyRanges(model: ModelProto, tensors: readonly string[], context: PassContext): Promise<Map<string, QuantizationRange>> {
  const scopes = producerScopes(model);
  const allocator = new NameAllocator(model);
  const added: { nodes: NodeProto[]; node: NodeProto }[] = [];
  const reduced = new Map<string, { min: string; max: string }>();
  const inMain: string[] = [];
  for (const name of new Set(tensors)) {
    const scope = scopes.get(name);
    if (!scope?.owner) {
      inMain.push(name);
      continue;
    }
    if (!reachableFromMain(scope) || loopLevels(scope) !== 1) continue;
    const reduce = (op: "ReduceMin" | "ReduceMax"): string => {
      const output = allocator.allocate(`${name}_${op}`);
      const node = makeNode({ opType: op, name: output, inputs: [name], outputs: [output], attributes: [intAttribute("keepdims", 0)] });
      scope.graph.node.push(node);
      added.push({ nodes: scope.graph.node, node });
      return output;
    };
    reduced.set(name, { min: reduce("ReduceMin"), max: reduce("ReduceMax") });
  }
  const exposed = exposeSubgraphValues(model, [...reduced.values()].flatMap(({ min, max }) => [min, max]), allocator);
  try {
    const stacked = [...reduced.values()].flatMap(({ min, max }) => [exposed.aliases.get(min), exposed.aliases.get(max)]).filter((name): name is string => name !== undefined);
    const { ranges: found } = await calibrateRanges(model, [...inMain, ...stacked], { method: "minmax" }, context);
    const ranges = new Map<string, QuantizationRange>();
    for (const name of inMain) {
      const range = found.get(name);
      if (range) ranges.set(name, range);
    }
    for (const [name, { min, max }] of reduced) {
      const low = found.get(exposed.aliases.get(min) ?? "");
      const high = found.get(exposed.aliases.get(max) ?? "");
      if (low && high) ranges.set(name, { min: low.min, max: high.max });
    }
    return ranges;
  } finally {
    exposed.restore();
    for (const { nodes, node } of added.reverse()) nodes.splice(nodes.lastIndexOf(node), 1);
  }
}
