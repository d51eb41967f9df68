import { formatBytes, formatCount } from "../../core/units.js";
import type { OnnxInspection, OnnxValueSpec } from "../../formats/onnx/inspect-onnx.js";

const labelWidth = 18;
const grouped = (n: number) => n.toLocaleString("en-US");

/** Rows of cells, each column padded to its widest cell; numeric columns right-aligned. */
function table(rows: string[][], indent: string, numericColumns: ReadonlySet<number> = new Set()): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    indent + row.map((cell, i) => (numericColumns.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  ").trimEnd(),
  );
}

function line(label: string, value: string): string {
  return `  ${label.padEnd(labelWidth)}${value}`.trimEnd();
}

function shapeText(shape: OnnxValueSpec["shape"]): string {
  if (shape === null) return "[?]";
  return `[${shape.map((d) => (d === null ? "?" : String(d))).join(", ")}]`;
}

/** Wrap "a 1, b 2, …" items to lines under the value column. */
function wrapped(items: string[], width = 96): string[] {
  const lines: string[] = [];
  let current = "";
  for (const item of items) {
    if (current !== "" && current.length + item.length + 2 > width - labelWidth) {
      lines.push(`${current},`);
      current = item;
    } else {
      current = current === "" ? item : `${current}, ${item}`;
    }
  }
  if (current !== "") lines.push(current);
  return lines;
}

function continued(label: string, values: string[]): string[] {
  return values.map((value, i) => line(i === 0 ? label : "", value));
}

function macsSection(x: OnnxInspection): string[] {
  const { macs } = x;
  const shapes = Object.entries(macs.inputShapes)
    .map(([name, dims]) => `${name}=${dims === null ? "?" : dims.length === 0 ? "scalar" : dims.map((d) => d ?? "?").join("x")}`)
    .join(" ");
  const unresolved = macs.unresolvedNodes > 0 ? `, ${macs.unresolvedNodes} unresolved` : "";
  const lines = [line("MACs", `${formatCount(macs.total)} (${grouped(macs.total)}) at ${shapes} — ${macs.resolvedNodes} nodes resolved${unresolved}`)];
  lines.push(...table(macs.byOp.map((row) => [row.op, formatCount(row.macs), `${row.nodes} nodes`]), "    ", new Set([1])));
  if (macs.unresolvedNodes > 0) {
    lines.push(line("", `unresolved (shape unknown, or inside a loop): ${macs.unresolvedExamples.slice(0, 3).join(", ")}${macs.unresolvedNodes > 3 ? ", …" : ""}`));
    lines.push(line("", "fix symbolic input dims with --shape NAME=DxD… for a complete count"));
  }
  return lines;
}

/** The human rendering of `inspect` for an ONNX model (stderr). */
export function renderOnnxInspection(x: OnnxInspection): string {
  const lines: string[] = [];
  lines.push(`ONNX model  ${x.path}  (${formatBytes(x.fileSizeBytes)})`);
  const producer = [x.producerName, x.producerVersion].filter((s) => s !== "").join(" ");
  lines.push(line("producer", producer === "" ? "(not recorded)" : producer));
  lines.push(line("IR version", String(x.irVersion)));
  lines.push(...continued("opsets", wrapped(x.opsetImports.map((o) => `${o.domain} ${o.version}`))));
  lines.push(line("architecture", x.architecture));
  for (const evidence of x.architectureEvidence) lines.push(line("", `· ${evidence}`));

  const sources = x.parameterSources;
  lines.push(line("parameters", `${grouped(x.parameterCount)} (${formatCount(x.parameterCount)}) in ${sources.initializerTensors} initializers + ${sources.constantNodeTensors} Constant nodes`));
  lines.push(...table(x.byDtype.map((row) => [row.dtype, grouped(row.parameterCount), formatBytes(row.sizeBytes)]), "    ", new Set([1, 2])));

  lines.push(line("inputs", ""));
  lines.push(...table(x.inputs.map((v) => [v.name, v.dtype, shapeText(v.shape)]), "    "));
  lines.push(line("outputs", ""));
  lines.push(...table(x.outputs.map((v) => [v.name, v.dtype, shapeText(v.shape)]), "    "));

  lines.push(line("nodes", `${grouped(x.nodeCount)} in ${x.subgraphCount + 1} graph${x.subgraphCount > 0 ? `s (${x.subgraphCount} subgraphs)` : ""}`));
  lines.push(...continued("ops", wrapped(x.ops.map((o) => `${o.op} ${o.count}`))));
  lines.push(...macsSection(x));

  lines.push(line("quantizable", x.quantizable.length === 0 ? "none" : ""));
  if (x.quantizable.length > 0) {
    // A QDQ model's weights are already integers behind DequantizeLinear: say how many, when any.
    const quantized = x.quantizable.some((q) => q.quantizedWeightElements > 0);
    const rows = [
      ["op", "nodes", "with weights", "weight elements", ...(quantized ? ["already int (QDQ)"] : [])],
      ...x.quantizable.map((q) => [q.op, String(q.nodes), String(q.nodesWithConstantWeights), grouped(q.weightElements), ...(quantized ? [grouped(q.quantizedWeightElements)] : [])]),
    ];
    lines.push(...table(rows, "    ", new Set(quantized ? [1, 2, 3, 4] : [1, 2, 3])));
  }
  const ext = x.externalData;
  lines.push(line("external data", ext.tensorCount === 0 ? "none" : `${ext.tensorCount} tensors, ${formatBytes(ext.sizeBytes)} in ${ext.files.join(", ")}`));
  const m = x.memory;
  lines.push(line("memory (estimate)", `${formatBytes(m.estimatedRunBytes)} = weights ${formatBytes(m.weightsBytes)} + peak activations ${formatBytes(x.activations.peakBytes)}`));
  if (x.activations.unresolvedValues > 0) {
    lines.push(line("", `${x.activations.unresolvedValues} activations of unknown size not counted; fix input dims with --shape`));
  }
  lines.push(line("", "estimate excludes runtime arenas and framework overhead"));
  return lines.join("\n");
}
