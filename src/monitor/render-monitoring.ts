import type { ModelMonitoringResponse } from "./model-monitor.js";

const fixed = (value: number | null | undefined, digits: number): string => (value === null || value === undefined || !Number.isFinite(value) ? "–" : value.toFixed(digits));

function scoreText(score: number): string {
  return score !== 0 && Math.abs(score) < 0.001 ? score.toExponential(1) : score.toFixed(3);
}

/** The terminal view of `edgeforge monitor`: one line per version, then its drifted features. */
export function renderMonitoring(url: string, models: readonly ModelMonitoringResponse[], at: Date): string {
  const lines = [`edgeforge monitor ${url} · ${at.toISOString()}`, ""];
  const header = ["model:version", "ready", "window", "p50 ms", "p95 ms", "p99 ms", "errors", "req/s", "drift"];
  const rows: string[][] = [];
  const details: string[] = [];
  for (const model of models) {
    for (const v of model.versions) {
      const drift = v.drift;
      const driftText =
        drift.status === "evaluated" ? `${drift.drifted ? "DRIFTED" : "ok"} ${drift.features.filter((f) => f.drifted).length}/${drift.features.length}` : drift.status;
      rows.push([
        `${model.model}:${v.version}`,
        v.ready ? "yes" : "no",
        `${v.window.requests} / ${fixed(v.window.seconds, 1)} s`,
        fixed(v.latencyMs?.p50, 2),
        fixed(v.latencyMs?.p95, 2),
        fixed(v.latencyMs?.p99, 2),
        v.errorRate === null ? "–" : `${(v.errorRate * 100).toFixed(2)} %`,
        fixed(v.throughputRps, 1),
        driftText,
      ]);
      if (drift.status === "evaluated") {
        const judged = drift.features.map((f) => `${f.feature} ${f.method} ${scoreText(f.score)}${f.drifted ? " drifted" : ""}`);
        details.push(`${model.model}:${v.version} drift (reference ${drift.referenceRows} rows, window ${drift.windowRows}): ${judged.join(" · ")}`);
      }
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  lines.push(format(header), ...rows.map(format));
  if (details.length > 0) lines.push("", ...details);
  return `${lines.join("\n")}\n`;
}
