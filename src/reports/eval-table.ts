import type { EvalRecord } from "./eval-record.js";

function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return String(value);
  if (unit === "ratio") return String(Number(value.toPrecision(6)));
  if (unit === "dB") return `${value.toFixed(2)} dB`;
  const text = Math.abs(value) >= 1e6 || (value !== 0 && Math.abs(value) < 1e-3) ? value.toExponential(3) : String(Number(value.toPrecision(5)));
  return unit && unit !== "count" ? `${text} ${unit}` : text;
}

/** A Markdown summary of an evaluation: one row per metric, with the baseline and retention beside it. */
export function renderEvalMarkdown(record: EvalRecord): string {
  const hasBaseline = record.baselineMetrics !== undefined && record.baselineMetrics.length > 0;
  const lines = [
    `# edgeforge eval: ${record.task}`,
    "",
    `model: ${record.model.path} (${record.model.runtime})`,
    ...(record.baseline ? [`baseline: ${record.baseline.path} (${record.baseline.runtime})`] : []),
    ...(record.data ? [`data: ${record.data.source} (${record.data.samples} samples)`] : []),
    "",
  ];
  const header = ["metric", "value", ...(hasBaseline ? ["baseline", "retention"] : []), "better"];
  lines.push(`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`);
  for (const metric of record.metrics) {
    const base = record.baselineMetrics?.find((m) => m.name === metric.name);
    const retention = record.retention?.[metric.name];
    const cells = [
      metric.name === record.primaryMetric ? `**${metric.name}**` : metric.name,
      formatValue(metric.value, metric.unit),
      ...(hasBaseline ? [base ? formatValue(base.value, base.unit) : "—", retention === undefined ? "—" : String(Number(retention.toPrecision(6)))] : []),
      metric.direction,
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  if (record.accuracyRetention !== undefined) lines.push("", `accuracy retention (${record.primaryMetric}): ${Number(record.accuracyRetention.toPrecision(6))}`);
  return `${lines.join("\n")}\n`;
}
