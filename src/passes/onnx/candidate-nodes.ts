import type { GraphProto, ModelProto, NodeProto } from "onnx-buf";
import { walkNodes } from "../../formats/onnx/graph-walk.js";
import type { PassLog } from "../pass.js";
import { nodeId } from "./graph-edit.js";
import { addCount } from "./onnx-pass-io.js";

/** A node a quantizer may rewrite, with the graph that holds it (main graph or a subgraph). */
export interface CandidateNode {
  node: NodeProto;
  graph: GraphProto;
  /** "" for the main graph, else the subgraph path ("If_25/then_branch"). */
  scopePath: string;
  id: string;
}

export interface CandidateFilter {
  opTypes: readonly string[];
  excludeNodes: readonly string[];
  excludeOpTypes?: readonly string[];
}

/** Nodes of the requested op types (default domain) in every graph, minus the user's exclusions (logged). */
export function findCandidateNodes(model: ModelProto, filter: CandidateFilter, skips: SkipLog): CandidateNode[] {
  const opTypes = new Set(filter.opTypes);
  const excludedNodes = new Set(filter.excludeNodes);
  const excludedOps = new Set(filter.excludeOpTypes ?? []);
  const candidates: CandidateNode[] = [];
  for (const visit of walkNodes(model.graph!)) {
    const { node } = visit;
    if (!opTypes.has(node.opType) || (node.domain !== "" && node.domain !== "ai.onnx")) continue;
    const id = nodeId(node);
    if (excludedNodes.has(id) || excludedNodes.has(node.name)) {
      skips.skip(id, "excluded by name");
      continue;
    }
    if (excludedOps.has(node.opType)) {
      skips.skip(id, "excluded by op type");
      continue;
    }
    candidates.push({ node, graph: visit.scope.graph, scopePath: visit.scope.path, id });
  }
  return candidates;
}

const maxNotedSkips = 40;

/** Counts skipped nodes by reason and notes the first few by name, for the pass log. */
export class SkipLog {
  readonly skipped: { id: string; reason: string }[] = [];

  skip(id: string, reason: string): void {
    this.skipped.push({ id, reason });
  }

  writeTo(log: PassLog): void {
    addCount(log, "nodesSkipped", this.skipped.length);
    const byReason = new Map<string, number>();
    for (const { reason } of this.skipped) byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
    for (const [reason, count] of byReason) log.notes.push(`skipped ${count} node(s): ${reason}`);
    for (const { id, reason } of this.skipped.slice(0, maxNotedSkips)) log.notes.push(`skipped ${id}: ${reason}`);
    if (this.skipped.length > maxNotedSkips) log.notes.push(`… and ${this.skipped.length - maxNotedSkips} more skipped nodes`);
  }
}

/**
 * What happened to the candidates of each graph, for models with subgraphs: per If/Loop/Scan
 * branch, how many nodes were quantized (by op type) and which stayed float and why.
 */
export class ScopeTally {
  private readonly scopes = new Map<string, { quantized: Map<string, number>; kept: { id: string; reason: string }[]; remarks: string[] }>();

  private scope(path: string) {
    let entry = this.scopes.get(path);
    if (!entry) {
      entry = { quantized: new Map(), kept: [], remarks: [] };
      this.scopes.set(path, entry);
    }
    return entry;
  }

  /** A node of the graph at scope path `path` ("" for the main graph) was quantized. */
  quantized(path: string, opType: string): void {
    const { quantized } = this.scope(path);
    quantized.set(opType, (quantized.get(opType) ?? 0) + 1);
  }

  kept(path: string, id: string, reason: string): void {
    this.scope(path).kept.push({ id, reason });
  }

  /** Something about how the graph at `path` was quantized, added to its note. */
  remark(path: string, text: string): void {
    this.scope(path).remarks.push(text);
  }

  /** Notes per subgraph and the `nodesQuantizedInSubgraphs` count; nothing for a model without subgraphs. */
  writeTo(log: PassLog): void {
    const subgraphs = [...this.scopes].filter(([path]) => path !== "");
    if (subgraphs.length === 0) return;
    let total = 0;
    for (const [path, { quantized, kept, remarks }] of [...this.scopes].sort(([a], [b]) => a.localeCompare(b))) {
      const count = [...quantized.values()].reduce((sum, n) => sum + n, 0);
      if (path !== "") total += count;
      const ops = [...quantized].map(([op, n]) => `${op}×${n}`).join(", ");
      const float = kept.length === 0 ? "none stayed float" : `stayed float: ${kept.slice(0, 8).map((k) => `${k.id} (${k.reason})`).join(", ")}${kept.length > 8 ? ` and ${kept.length - 8} more` : ""}`;
      log.notes.push(`${path === "" ? "main graph" : `subgraph ${path}`}: ${count} of ${count + kept.length} candidate node(s) quantized${ops ? ` (${ops})` : ""}; ${float}${remarks.map((remark) => `; ${remark}`).join("")}`);
    }
    addCount(log, "nodesQuantizedInSubgraphs", total);
  }
}
