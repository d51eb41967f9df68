import type { ModelProto } from "onnx-buf";
import { childScopes, nodeLabel, rootScope, type GraphScope } from "./graph-walk.js";

export type OnnxStructureIssueKind =
  | "missing-graph"
  | "undefined-input"
  | "not-topological"
  | "duplicate-output"
  | "undefined-graph-output"
  | "missing-opset-import";

export interface OnnxStructureIssue {
  kind: OnnxStructureIssueKind;
  message: string;
  /** "" for the main graph, else the subgraph path ("If_25/then_branch"). */
  graphPath: string;
  nodePath?: string;
  /** The value (tensor name) or domain concerned. */
  value?: string;
}

/** The default ONNX domain is spelled "" or "ai.onnx". */
function normalizeDomain(domain: string): string {
  return domain === "ai.onnx" ? "" : domain;
}

function checkGraph(scope: GraphScope, outer: readonly ReadonlySet<string>[], issues: OnnxStructureIssue[], domainsUsed: Map<string, string>): void {
  const graph = scope.graph;
  const defined = new Set<string>();
  for (const input of graph.input) defined.add(input.name);
  for (const tensor of graph.initializer) defined.add(tensor.name);
  for (const sparse of graph.sparseInitializer) if (sparse.values) defined.add(sparse.values.name);
  const producedAt = new Map<string, number>();
  graph.node.forEach((node, index) => {
    for (const output of node.output) if (output !== "" && !producedAt.has(output)) producedAt.set(output, index);
  });
  const visible = (name: string) => defined.has(name) || outer.some((set) => set.has(name));
  const nodePath = (label: string) => (scope.path === "" ? label : `${scope.path}/${label}`);

  graph.node.forEach((node, index) => {
    const path = nodePath(nodeLabel(node, index));
    const domain = normalizeDomain(node.domain);
    if (!domainsUsed.has(domain)) domainsUsed.set(domain, path);
    for (const input of node.input) {
      if (input === "" || visible(input)) continue;
      const producer = producedAt.get(input);
      issues.push(
        producer !== undefined && producer >= index
          ? { kind: "not-topological", message: `node ${path} reads "${input}" before node #${producer} produces it`, graphPath: scope.path, nodePath: path, value: input }
          : { kind: "undefined-input", message: `node ${path} reads "${input}", which nothing defines`, graphPath: scope.path, nodePath: path, value: input },
      );
    }
    for (const child of childScopes(scope, node, index)) checkGraph(child, [...outer, defined], issues, domainsUsed);
    for (const output of node.output) {
      if (output === "") continue;
      if (defined.has(output)) {
        issues.push({ kind: "duplicate-output", message: `node ${path} redefines "${output}"`, graphPath: scope.path, nodePath: path, value: output });
      }
      defined.add(output);
    }
  });
  for (const output of graph.output) {
    if (!visible(output.name)) {
      issues.push({ kind: "undefined-graph-output", message: `graph output "${output.name}" is never produced`, graphPath: scope.path, value: output.name });
    }
  }
}

/**
 * Structural checks a pass must keep true: nodes in topological order in every graph, every input
 * defined (graph input, initializer, earlier output, or an outer-scope value for subgraphs; ""
 * marks an omitted optional input), single assignment, graph outputs produced, and an opset
 * import for every operator domain used. Returns the issues found; empty means sound.
 */
export function checkOnnxStructure(model: ModelProto): OnnxStructureIssue[] {
  if (!model.graph) return [{ kind: "missing-graph", message: "the model has no graph", graphPath: "" }];
  const issues: OnnxStructureIssue[] = [];
  const domainsUsed = new Map<string, string>();
  checkGraph(rootScope(model.graph), [], issues, domainsUsed);
  const imported = new Set(model.opsetImport.map((opset) => normalizeDomain(opset.domain)));
  for (const [domain, firstNode] of domainsUsed) {
    if (!imported.has(domain)) {
      const name = domain === "" ? "ai.onnx" : domain;
      issues.push({ kind: "missing-opset-import", message: `domain "${name}" is used (first by ${firstNode}) but not in opset_import`, graphPath: "", nodePath: firstNode, value: name });
    }
  }
  return issues;
}
