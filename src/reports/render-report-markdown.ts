import { describeGateResult } from "../gates/describe-gate-result.js";
import type { Report } from "./report.js";
import { candidateById, describeCache, describeJudgedMeasurement, metricLegend, describeMachine, formatGateValue, describePasses, describeRuntime, formatReportMetric, reportMetricColumns } from "./report-format.js";

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** report.md: short enough for a pull-request comment, complete enough to act on. */
export function renderReportMarkdown(report: Report): string {
  const lines: string[] = [];
  const recommended = candidateById(report, report.recommendation.candidateId);
  const verdictLine =
    report.verdict === "passed"
      ? `✅ **${recommended?.label ?? "?"}** passes every quality gate`
      : "❌ **no candidate passed the quality gates**";
  lines.push(`## edgeforge optimize: ${escapeCell(report.input.path)} → ${report.target.name}`, "", verdictLine, "");

  if (recommended) {
    lines.push(`**Recommended:** \`${recommended.id}\` — ${escapeCell(describePasses(recommended))} on ${describeRuntime(recommended)}`);
    if (report.outputs.recommendedArtifact) lines.push(`Artifact: \`${report.outputs.recommendedArtifact}\``);
    lines.push("");
    for (const reason of report.recommendation.reasons) lines.push(`- ${reason}`);
    lines.push("");
  }
  if (report.gates.closest) {
    const closest = candidateById(report, report.gates.closest.candidateId);
    lines.push(`**Closest candidate:** \`${report.gates.closest.candidateId}\` (${escapeCell(closest ? describePasses(closest) : "?")}) missed:`);
    for (const miss of report.gates.closest.missed) lines.push(`- ${describeGateResult(miss)}`);
    lines.push("");
  }

  const next = report.whatNext;
  if (next && (next.unreachable.length > 0 || next.alternative || next.findings.length > 0 || next.oversubscribed)) {
    lines.push("### What next", "");
    for (const u of next.unreachable) lines.push(`- **${escapeCell(u.gate)}** (${escapeCell(u.requirement)}) is out of reach: ${escapeCell(u.why)}`);
    if (next.alternative) {
      lines.push(`- Nearest passing alternative: \`${next.alternative.candidateId}\` with ${escapeCell(next.alternative.changes.join("; "))}:`, "", "```sh", next.alternative.command, "```", "");
    }
    for (const a of (next.alternatives ?? []).filter((x) => x.kind !== "relaxed gate")) {
      lines.push(`- Alternative (${a.kind})${a.candidateId ? ` for \`${a.candidateId}\`` : ""}: ${escapeCell(a.why)}:`, "", "```sh", a.command, "```", "");
    }
    if (next.oversubscribed) lines.push(`- ⚠ ${escapeCell(next.oversubscribed)}`);
    for (const f of next.findings) lines.push(`- [${f.severity}] ${escapeCell(f.observation)}${f.actions.length > 0 ? ` → ${escapeCell(f.actions.join("; "))}` : ""}`);
    lines.push("");
  }

  const judged = recommended ?? candidateById(report, report.gates.closest?.candidateId);
  const verdict = report.gates.verdicts.find((v) => v.candidateId === judged?.id);
  if (verdict) {
    lines.push(`### Quality gates (${report.gates.source}) for \`${verdict.candidateId}\``, "", "| gate | requirement | measured | baseline | threshold | margin | result |", "|---|---|---|---|---|---|---|");
    for (const r of verdict.results) {
      const fmt = (v: number | undefined): string => formatGateValue(r.metric, v);
      lines.push(
        `| ${r.gate} | ${escapeCell(r.requirement)} | ${fmt(r.measured)} | ${fmt(r.baseline)} | ${r.op ?? ""} ${fmt(r.threshold)} | ${fmt(r.margin)} | ${r.passed ? "✅ pass" : `❌ ${r.reason ?? "fail"}`} |`,
      );
    }
    lines.push("");
  }

  const columns = reportMetricColumns(report);
  lines.push("### Candidates", "", `| candidate | passes | runtime | ${columns.join(" | ")} | frontier | gates |`, `|---|---|---|${columns.map(() => "---|").join("")}---|---|`);
  for (const candidate of report.candidates) {
    const gates = report.gates.verdicts.find((v) => v.candidateId === candidate.id);
    const marks = [
      candidate.id === report.recommendation.candidateId ? "⭐ " : "",
      candidate.isBaseline ? "(baseline) " : "",
    ].join("");
    const cells =
      candidate.status === "failed"
        ? columns.map(() => "—")
        : columns.map((metric) => escapeCell(formatReportMetric(candidate, metric)));
    lines.push(
      `| ${marks}\`${candidate.id}\` | ${escapeCell(describePasses(candidate))} | ${escapeCell(describeRuntime(candidate))} | ${cells.join(" | ")} | ${report.frontier.ids.includes(candidate.id) ? "●" : ""} | ${
        candidate.status === "failed" ? `failed: ${escapeCell(candidate.error?.message ?? "")}` : gates?.passed ? "pass" : "fail"
      } |`,
    );
  }
  lines.push("");
  for (const legend of metricLegend(report)) lines.push(`- ${legend}`);
  lines.push("");
  lines.push(
    "<details><summary>How this was measured</summary>",
    "",
    `- Machine: ${escapeCell(describeMachine(report))}`,
    `- Timing: ${escapeCell(describeJudgedMeasurement(report))}`,
    report.evaluation ? `- Accuracy: ${escapeCell(report.evaluation.method)} (${report.evaluation.samples} samples from ${escapeCell(report.evaluation.source)})` : "- Accuracy: no evaluation data",
    `- Search: ${report.search.strategy}, seed ${report.search.seed}, ${report.search.evaluated} candidates evaluated (${report.search.stoppedBecause}); search space ${report.plan.searchSpaceSize}`,
    `- Cache: ${escapeCell(describeCache(report))}`,
    `- Values marked (est.) are estimates, not measurements.`,
    `- edgeforge ${report.tool.version}, ${report.createdAt}`,
    "",
    "</details>",
    "",
  );
  return lines.join("\n");
}
