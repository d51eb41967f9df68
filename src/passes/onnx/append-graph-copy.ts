import type { ModelProto } from "onnx-buf";
import { cloneModel } from "../../formats/onnx/clone-model.js";
import { walkGraphs } from "../../formats/onnx/graph-walk.js";

/**
 * Append a copy of `source`'s graph to `target`'s, every name prefixed except the main-graph inputs
 * they share, so that one run computes both models on the same inputs (and nodes added afterwards
 * can compare their values without copying them out). Returns the unprefixed names of the values
 * the copy computes in its main graph. `source` is left as it was.
 */
export function appendGraphCopy(target: ModelProto, source: ModelProto, prefix: string): Set<string> {
  const copy = cloneModel(source);
  const main = copy.graph!;
  const initializers = new Set(main.initializer.map((t) => t.name));
  const shared = new Set(main.input.map((i) => i.name).filter((name) => !initializers.has(name)));
  const rename = (name: string) => (name === "" || shared.has(name) ? name : `${prefix}${name}`);
  const computed = new Set(main.node.flatMap((node) => node.output).filter((name) => name !== ""));
  for (const { graph, depth } of walkGraphs(main)) {
    for (const node of graph.node) {
      if (node.name) node.name = `${prefix}${node.name}`;
      node.input = node.input.map(rename);
      node.output = node.output.map(rename);
    }
    for (const tensor of graph.initializer) tensor.name = rename(tensor.name);
    for (const sparse of graph.sparseInitializer) if (sparse.values) sparse.values.name = rename(sparse.values.name);
    if (depth > 0) for (const info of [...graph.input, ...graph.output, ...graph.valueInfo]) info.name = rename(info.name);
  }
  const graph = target.graph!;
  graph.node.push(...main.node);
  graph.initializer.push(...main.initializer);
  graph.sparseInitializer.push(...main.sparseInitializer);
  for (const opset of copy.opsetImport) {
    const existing = target.opsetImport.find((o) => o.domain === opset.domain || (isDefault(o.domain) && isDefault(opset.domain)));
    if (!existing) target.opsetImport.push(opset);
    else if (existing.version < opset.version) existing.version = opset.version;
  }
  return computed;
}

function isDefault(domain: string): boolean {
  return domain === "" || domain === "ai.onnx";
}
