import type { Diagnosis, Report } from "../../api/index.js";
import { formatBytes, formatMs } from "../../core/units.js";
import { describeGateResult } from "../../gates/describe-gate-result.js";
import { describeCache } from "../../reports/report-format.js";
import { alignedTable, clipUnique, labelled } from "./text-layout.js";

function fmt(value: number | undefined, digits = 3): string {
  return value === undefined ? "—" : value.toFixed(digits);
}

/** The end of an optimize run, for people: the verdict, the recommendation or the near miss, the candidates, where the reports are. */
export function renderOptimizeSummary(report: Report): string {
  const lines: string[] = [];
  const recommended = report.candidates.find((c) => c.id === report.recommendation.candidateId);
  lines.push(report.verdict === "passed" ? `Recommended: ${recommended?.id} — ${recommended?.label}` : "No candidate passed the quality gates.");
  for (const reason of report.recommendation.reasons) lines.push(`  - ${reason}`);
  if (report.gates.closest) {
    lines.push(`Closest candidate: ${report.gates.closest.candidateId}; it missed:`);
    for (const miss of report.gates.closest.missed) lines.push(`  - ${describeGateResult(miss)}`);
  }
  const next = report.whatNext;
  if (next && next.unreachable.length > 0) {
    lines.push("Out of reach:");
    for (const u of next.unreachable) lines.push(`  - ${u.gate} (${u.requirement}): ${u.why}`);
  }
  if (next?.alternative) {
    lines.push(`Nearest passing alternative: ${next.alternative.candidateId}, with ${next.alternative.changes.join("; ")}:`, `  ${next.alternative.command}`);
  }
  for (const a of (next?.alternatives ?? []).filter((x) => x.kind !== "relaxed gate")) {
    lines.push(`Alternative (${a.kind})${a.candidateId ? ` for ${a.candidateId}` : ""}: ${a.why}:`, `  ${a.command}`);
  }
  if (next?.oversubscribed) lines.push(`Note: ${next.oversubscribed}`);
  const rows = [["candidate", "p50 (abs.)", "tok/s", "model mem.", "size", "acc. ret.", "speed-up [95% CI]", "pass alone", "frontier", "gates"]];
  const names = clipUnique(report.candidates.map((c) => c.id), 40);
  for (const [index, c] of report.candidates.entries()) {
    const m = c.metrics;
    const verdict = report.gates.verdicts.find((v) => v.candidateId === c.id);
    rows.push([
      `${c.id === report.recommendation.candidateId ? "* " : "  "}${names[index]}`,
      m.p50LatencyMs === undefined ? "—" : formatMs(m.p50LatencyMs),
      m.tokensPerSec === undefined ? (m.promptTokensPerSec === undefined ? "—" : `${m.promptTokensPerSec.toFixed(0)} pp`) : m.tokensPerSec.toFixed(1),
      m.modelMemoryBytes === undefined ? (m.peakRssBytes === undefined ? "—" : `${formatBytes(m.peakRssBytes)} RSS`) : formatBytes(m.modelMemoryBytes),
      m.sizeBytes === undefined ? "—" : formatBytes(m.sizeBytes),
      fmt(m.accuracyRetention),
      m.speedup === undefined ? "—" : `${m.speedup.toFixed(2)}×${c.intervals?.speedup ? ` [${c.intervals.speedup.low.toFixed(2)}, ${c.intervals.speedup.high.toFixed(2)}]` : ""}`,
      m.passSpeedup === undefined ? "—" : `${m.passSpeedup.toFixed(2)}×`,
      report.frontier.ids.includes(c.id) ? "yes" : "",
      c.status === "measured" ? (verdict?.passed ? "pass" : "fail") : c.status,
    ]);
  }
  lines.push("", ...alignedTable(rows, "  ", new Set([1, 2, 3, 4, 5, 6, 7])));
  if (report.candidates.some((c) => c.metrics.speedup !== undefined)) {
    lines.push(
      `  speed-up: side by side against ${report.baselineId} (alternating blocks in each candidate's time window); pass alone: against the input model at the candidate's own settings; p50 (abs.): as slow as the machine was during the candidate's blocks, so compare by speed-up`,
    );
  }
  // The run's warnings qualify the figures above (a reference that moved, unsteady latency): shown here, not only in the report.
  const warnings = (next?.findings ?? []).filter((f) => f.severity === "warning");
  if (warnings.length > 0) {
    lines.push("", `Warnings (causes and actions: the report, or \`edgeforge diagnose ${report.outputs.reportJson}\`):`);
    for (const w of warnings) lines.push(`  - ${w.observation}`);
  }
  lines.push(
    "",
    labelled("cache", describeCache(report)),
    labelled("search", `${report.search.strategy}, ${report.search.evaluated} evaluated: ${report.search.stoppedBecause}`),
  );
  if (report.outputs.recommendedArtifact) lines.push(labelled("artifact", report.outputs.recommendedArtifact));
  lines.push(labelled("report", report.outputs.reportHtml), labelled("markdown", report.outputs.reportMd), labelled("junit", report.outputs.junitXml));
  return lines.join("\n");
}

export function renderDiagnosis(diagnosis: Diagnosis): string {
  const lines: string[] = [`Diagnosis of ${diagnosis.source}: ${diagnosis.findings.length} finding${diagnosis.findings.length === 1 ? "" : "s"}`];
  for (const f of diagnosis.findings) {
    lines.push("", `[${f.severity}] ${f.rule} (${f.subject})`, `  observed: ${f.observation}`);
    for (const cause of f.causes) lines.push(`  cause:    ${cause}`);
    for (const action of f.actions) lines.push(`  action:   ${action}`);
  }
  if (diagnosis.troubleshooting.length > 0) {
    lines.push("", "Troubleshooting by framework:");
    for (const row of diagnosis.troubleshooting) {
      lines.push(`  ${row.framework}: ${row.symptom}`, `    causes:  ${row.causes.join("; ")}`, `    actions: ${row.actions.join("; ")}`);
    }
  }
  return lines.join("\n");
}
