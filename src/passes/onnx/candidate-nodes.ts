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
