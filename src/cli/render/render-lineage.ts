import type { LineageNode, LineagePassStep } from "../../api/index.js";
import { formatBytes } from "../../core/units.js";

function describeOptions(options: Record<string, unknown>): string {
  const entries = Object.entries(options).filter(([, value]) => value !== undefined);
  return entries.length === 0 ? "" : ` {${entries.map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`).join(", ")}}`;
}

function describeStep(step: LineagePassStep): string {
  return `${step.passId}${step.passVersion ? ` v${step.passVersion}` : ""}${describeOptions(step.options)}`;
}

/** The lineage as a tree, newest artifact first, each edge with its passes, options and tool versions. */
export function renderLineage(node: LineageNode): string {
  const lines: string[] = [];
  let current: LineageNode | undefined = node;
  let indent = "";
  while (current) {
    const { artifact } = current;
    const name = current.versions.length > 0 ? current.versions.join(", ") : `(${artifact.files.length > 1 || artifact.format === "safetensors" ? "folder" : "file"} ${artifact.sourcePath ?? "unknown"})`;
    lines.push(`${indent}${name}  ${artifact.format} · ${formatBytes(artifact.sizeBytes)} · sha256 ${artifact.digest.slice(0, 16)}…`);
    const edge = current.producedBy;
    if (edge) {
      const tools = Object.entries(edge.toolVersions).map(([tool, version]) => `${tool} ${version}`).join(", ");
      const steps = edge.passes.length > 0 ? edge.passes.map(describeStep).join(" → ") : "(no pass recorded)";
      lines.push(`${indent}└─ made by ${steps}${tools ? `  [${tools}]` : ""}`);
      if (edge.parentDigest) lines.push(`${indent}   from:`);
      indent += "   ";
    }
    current = current.parent;
  }
  return lines.join("\n");
}
