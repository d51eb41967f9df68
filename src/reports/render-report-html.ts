import { formatShapes } from "../core/shapes.js";
import { describeGateResult } from "../gates/describe-gate-result.js";
import { formatMetricValue } from "../pareto/format-metric.js";
import { isMetricName, metricCatalog } from "../pareto/metric-catalog.js";
import type { CandidateReport, Report } from "./report.js";
import { candidateById, describeCache, describeJudgedMeasurement, metricLegend, describeMachine, formatGateValue, describePasses, describeRuntime, formatReportMetric, reportMetricColumns } from "./report-format.js";
import { reportHtmlScript } from "./report-html-script.js";
import { reportHtmlStyle } from "./report-html-style.js";

function escapeHtml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#39;" })[c] as string);
}

/** JSON inside <script> must not be able to close the tag. */
function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/** "#0" for the baseline, "#1"… in report order: unique, short labels for charts, repeated in the table. */
function shortId(index: number): string {
  return `#${index}`;
}

function chartData(report: Report): unknown {
  const passing = new Set(report.gates.passingIds);
  const metricUnits: Record<string, string> = {};
  const metricDirections: Record<string, string> = {};
  for (const [name, info] of Object.entries(metricCatalog)) {
    metricUnits[name] = info.unit;
    metricDirections[name] = info.direction === "minimize" ? "lower is better" : "higher is better";
  }
  return {
    metricUnits,
    metricDirections,
    candidates: report.candidates.map((c, index) => ({
      id: c.id,
      short: shortId(index),
      runtime: describeRuntime(c),
      label: describePasses(c),
      status: c.status,
      metrics: c.metrics,
      estimated: c.estimatedMetrics,
      latency: c.latency,
      samples: c.latencySamplesMs,
      frontier: report.frontier.ids.includes(c.id),
      recommended: c.id === report.recommendation.candidateId,
      passed: passing.has(c.id),
    })),
  };
}

/** Axis choices for the scatter: the objectives first, then any other measured metric. */
function scatterAxes(report: Report): { choices: string[]; x: string; y: string } {
  const measured = new Set(report.candidates.flatMap((c) => Object.keys(c.metrics)));
  const objectives = report.objectives.map((o) => o.metric).filter((m) => measured.has(m));
  const choices = [...new Set([...objectives, ...reportMetricColumns(report)])];
  const speedLike = ["speedup", "p50LatencyMs", "p95LatencyMs", "tokensPerSec", "meanLatencyMs"];
  const qualityLike = ["accuracyRetention", "klDivergence", "accuracy", "cosineSimilarity", "perplexity"];
  const x = choices.find((m) => speedLike.includes(m)) ?? choices[0] ?? "sizeBytes";
  const y = choices.find((m) => qualityLike.includes(m)) ?? choices.find((m) => m !== x) ?? x;
  return { choices, x, y };
}

function select(id: string, choices: string[], selected: string): string {
  const options = choices.map((m) => `<option value="${escapeHtml(m)}"${m === selected ? " selected" : ""}>${escapeHtml(m)}</option>`).join("");
  return `<select id="${id}">${options}</select>`;
}

function gateTable(report: Report, candidateId: string | undefined): string {
  const verdict = report.gates.verdicts.find((v) => v.candidateId === candidateId);
  if (!verdict) return `<p class="muted">No candidate was measured, so no gate could be judged.</p>`;
  const rows = verdict.results.map((r) => {
    const fmt = (v: number | undefined): string => escapeHtml(formatGateValue(r.metric, v));
    return (
      `<tr><td>${escapeHtml(r.gate)}</td><td>${r.priority}</td><td>${escapeHtml(r.requirement)}</td><td class="num">${fmt(r.measured)}</td><td class="num">${fmt(r.baseline)}</td><td class="num">${escapeHtml(r.op ?? "")} ${fmt(r.threshold)}</td><td class="num">${fmt(r.margin)}</td><td class="${r.passed ? "ok" : "bad"}">${r.passed ? "pass" : "fail"}</td><td>${escapeHtml(describeGateResult(r))}</td></tr>`
    );
  });
  return `<table id="gates-table"><thead><tr><th>gate</th><th>priority</th><th>requirement</th><th>measured</th><th>baseline</th><th>threshold</th><th>margin</th><th>result</th><th>in words</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function candidateTable(report: Report): string {
  const columns = reportMetricColumns(report);
  const head = ["candidate", "passes", "runtime", ...columns, "frontier", "gates", "how measured"].map((h) => `<th>${escapeHtml(h)}</th>`).join("");
  const rows = report.candidates.map((c: CandidateReport, index) => {
    const verdict = report.gates.verdicts.find((v) => v.candidateId === c.id);
    const cells = columns.map((m) => `<td class="num">${c.status === "failed" ? "—" : escapeHtml(formatReportMetric(c, m))}</td>`).join("");
    const gates = c.status === "failed" ? `<span class="bad">failed: ${escapeHtml(c.error?.message ?? "")}</span>` : verdict?.passed ? `<span class="ok">pass</span>` : `<span class="bad">fail</span>`;
    const mark = c.id === report.recommendation.candidateId ? "★ " : "";
    return `<tr class="${c.id === report.recommendation.candidateId ? "recommended" : ""}"><td>${mark}<b>${shortId(index)}</b> <code>${escapeHtml(c.id)}</code>${c.isBaseline ? " <span class=\"muted\">(baseline)</span>" : ""}</td><td>${escapeHtml(describePasses(c))}${c.passes.some((p) => p.cacheHit) ? ' <span class="muted">(cached)</span>' : ""}</td><td>${escapeHtml(describeRuntime(c))}</td>${cells}<td>${report.frontier.ids.includes(c.id) ? "●" : ""}</td><td>${gates}</td><td class="muted">${escapeHtml(describeMeasurementBriefly(c))}</td></tr>`;
  });
  return `<div class="table-wrap"><table id="candidates-table"><thead><tr>${head}</tr></thead><tbody>${rows.join("")}</tbody></table></div>`;
}

function describeMeasurementBriefly(candidate: CandidateReport): string {
  const m = candidate.measurement;
  if (!m) return "not measured";
  return `${m.runs} runs, ${m.warmupRuns} warm-up${m.threads === undefined ? "" : `, ${m.threads}t`}${m.executionProvider ? `, ${m.executionProvider}` : ""}`;
}

function planSection(report: Report): string {
  const frameworks = report.plan.frameworks
    .map((f) => `<li><b>${escapeHtml(f.name)}</b>${f.usable === false ? ' <span class="muted">(not usable here)</span>' : ""}: ${escapeHtml(f.reasons.join("; "))}</li>`)
    .join("");
  const reasons = report.plan.reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join("");
  const planned = report.plan.candidates
    .map((c) => `<tr><td><code>${escapeHtml(c.id)}</code></td><td>${escapeHtml(c.label)}</td><td>${escapeHtml(c.reasons.join("; "))}</td></tr>`)
    .join("");
  const skipped = report.plan.skipped.map((s) => `<li>${escapeHtml(s.label)}: ${escapeHtml(s.reason)}</li>`).join("");
  return `<h2 id="plan">The plan and its reasons</h2>
<p>Frameworks ranked for <b>${escapeHtml(report.target.name)}</b>:</p><ul>${frameworks}</ul>
<ul>${reasons}</ul>
<p>Search: <b>${report.search.strategy}</b> over ${report.plan.searchSpaceSize} possible candidates (seed ${report.search.seed}, at most ${report.search.maxCandidates}${report.search.maxTimeSec === undefined ? "" : `, ${report.search.maxTimeSec} s`}${report.search.stopWhenGoalsMet ? ", stop when the gates are met" : ""}); ${report.search.evaluated} evaluated — ${escapeHtml(report.search.stoppedBecause)}.</p>
<details><summary>Planned candidates (${report.plan.candidates.length})</summary><table><thead><tr><th>id</th><th>what</th><th>why</th></tr></thead><tbody>${planned}</tbody></table></details>
${skipped ? `<details><summary>Left out (${report.plan.skipped.length})</summary><ul>${skipped}</ul></details>` : ""}`;
}

function provenanceSection(report: Report): string {
  const logLines = report.log.map((l) => `${(l.atMs / 1000).toFixed(1).padStart(7)}s ${l.level === "warn" ? "warning: " : ""}${l.message}`).join("\n");
  return `<h2 id="provenance">Provenance</h2><table><tbody>
<tr><th>input</th><td><code>${escapeHtml(report.input.path)}</code> (${escapeHtml(report.input.format)}, ${escapeHtml(formatMetricValue("sizeBytes", report.input.sizeBytes))}, sha256 <code>${escapeHtml(report.input.sha256)}</code>)${report.input.shapes ? `, run at <code>${escapeHtml(formatShapes(report.input.shapes))}</code>` : ""}</td></tr>
<tr><th>target</th><td>${escapeHtml(report.target.name)}${report.target.description ? ` — ${escapeHtml(report.target.description)}` : ""}</td></tr>
<tr><th>machine</th><td>${escapeHtml(describeMachine(report))}</td></tr>
<tr><th>evaluation</th><td>${report.evaluation ? `${escapeHtml(report.evaluation.method)} — ${report.evaluation.samples} samples from ${escapeHtml(report.evaluation.source)}` : "no evaluation data"}</td></tr>
<tr><th>cache</th><td>${escapeHtml(describeCache(report))}</td></tr>
<tr><th>tool</th><td>edgeforge ${escapeHtml(report.tool.version)}, report schema ${report.schemaVersion}, ${escapeHtml(report.createdAt)}, ${(report.durationMs / 1000).toFixed(1)} s</td></tr>
</tbody></table>
<details><summary>Run log</summary><pre id="run-log">${escapeHtml(logLines)}</pre></details>`;
}

function whatNextSection(report: Report): string {
  const next = report.whatNext;
  if (!next || (next.unreachable.length === 0 && !next.alternative && next.findings.length === 0 && !next.oversubscribed)) return "";
  const items = [
    ...next.unreachable.map((u) => `<li><b>${escapeHtml(u.gate)}</b> (${escapeHtml(u.requirement)}) is out of reach: ${escapeHtml(u.why)}</li>`),
    ...(next.alternative ? [`<li>Nearest passing alternative: <code>${escapeHtml(next.alternative.candidateId)}</code> with ${escapeHtml(next.alternative.changes.join("; "))}:<pre>${escapeHtml(next.alternative.command)}</pre></li>`] : []),
    ...(next.alternatives ?? [])
      .filter((a) => a.kind !== "relaxed gate")
      .map((a) => `<li>Alternative (${escapeHtml(a.kind)})${a.candidateId ? ` for <code>${escapeHtml(a.candidateId)}</code>` : ""}: ${escapeHtml(a.why)}:<pre>${escapeHtml(a.command)}</pre></li>`),
    ...(next.oversubscribed ? [`<li class="bad">${escapeHtml(next.oversubscribed)}</li>`] : []),
    ...next.findings.map((f) => `<li>[${escapeHtml(f.severity)}] ${escapeHtml(f.observation)}${f.actions.length > 0 ? ` → ${escapeHtml(f.actions.join("; "))}` : ""}</li>`),
  ];
  return `<h2 id="what-next">What next</h2><ul>${items.join("")}</ul>`;
}

/** report.html: one self-contained file (inline CSS, data and script; a CSP forbids any fetch). */
export function renderReportHtml(report: Report): string {
  const recommended = candidateById(report, report.recommendation.candidateId);
  const judgedId = recommended?.id ?? report.gates.closest?.candidateId;
  const axes = scatterAxes(report);
  const measurement = describeJudgedMeasurement(report);
  const estimates = report.candidates.some((c) => c.estimatedMetrics.length > 0) ? " Values marked (est.) are estimates, not measurements." : "";
  const verdict =
    report.verdict === "passed"
      ? `<div class="verdict pass">Recommended: ${escapeHtml(recommended?.id ?? "")} passes every gate</div>`
      : `<div class="verdict fail">No candidate passed the quality gates</div>`;
  const closest = report.gates.closest
    ? `<p>Closest candidate: <code>${escapeHtml(report.gates.closest.candidateId)}</code>, which missed:</p><ul>${report.gates.closest.missed.map((m) => `<li>${escapeHtml(describeGateResult(m))}</li>`).join("")}</ul>`
    : "";
  const recommendation = recommended
    ? `<p><b><code>${escapeHtml(recommended.id)}</code></b>: ${escapeHtml(describePasses(recommended))} on ${escapeHtml(describeRuntime(recommended))}${report.outputs.recommendedArtifact ? ` → <code>${escapeHtml(report.outputs.recommendedArtifact)}</code>` : ""}</p><ul>${report.recommendation.reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join("")}</ul>`
    : `<ul>${report.recommendation.reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join("")}</ul>`;
  const unitNote = (m: string): string => (isMetricName(m) ? metricCatalog[m].unit : "");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edgeforge report — ${escapeHtml(report.input.path)} on ${escapeHtml(report.target.name)}</title>
<style>${reportHtmlStyle}</style></head>
<body>
<h1>edgeforge optimize report</h1>
<div class="muted"><code>${escapeHtml(report.input.path)}</code> → target <b>${escapeHtml(report.target.name)}</b> · ${escapeHtml(report.createdAt)}</div>
${verdict}
<h2 id="recommendation">Recommendation</h2>${recommendation}${closest}
${whatNextSection(report)}
<h2 id="gates">Quality gates <span class="muted">(${escapeHtml(report.gates.source)})</span></h2>${gateTable(report, judgedId)}
<h2 id="pareto">Pareto frontier</h2>
<figure><div class="controls">x: ${select("pareto-x", axes.choices, axes.x)} y: ${select("pareto-y", axes.choices, axes.y)}</div>
<div class="chart" id="pareto-chart"></div>
<figcaption>Filled points are on the Pareto frontier of all objectives; the dashed staircase is the frontier of the two axes shown. Objectives: ${escapeHtml(report.objectives.map((o) => `${o.metric} (${o.direction}, weight ${o.weight})`).join(", "))}; the ringed point is the recommendation. Measured on ${escapeHtml(describeMachine(report))}: ${escapeHtml(measurement)}. Units: ${escapeHtml(axes.choices.map((m) => `${m} [${unitNote(m)}]`).join(", "))}.${estimates}</figcaption></figure>
<h2 id="latency">Latency distributions</h2>
<figure><div class="chart" id="latency-chart"></div>
<figcaption>Each row: whisker from min to p99, box over the quartiles of the recorded samples (or p50–p90 when only percentiles were recorded), black bar the median, orange tick p95, dot the maximum. ${escapeHtml(measurement)}; machine: ${escapeHtml(describeMachine(report))}.</figcaption></figure>
<h2 id="candidates">Candidates</h2>${candidateTable(report)}
<ul class="legend">${metricLegend(report).map((l) => `<li>${escapeHtml(l)}</li>`).join("")}</ul>
${planSection(report)}
${provenanceSection(report)}
<script type="application/json" id="report-data">${embedJson(chartData(report))}</script>
<script>${reportHtmlScript}</script>
</body></html>
`;
}
