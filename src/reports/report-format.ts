import { formatShapes } from "../core/shapes.js";
import { formatMetricValue } from "../pareto/format-metric.js";
import { isMetricName } from "../pareto/metric-catalog.js";
import type { CandidateReport, MeasurementReport, Report } from "./report.js";

/** Shared wording for every rendering, so Markdown, HTML and JUnit say the same thing the same way. */
export function formatReportMetric(candidate: CandidateReport, metric: string): string {
  const value = candidate.metrics[metric];
  let text = isMetricName(metric) ? formatMetricValue(metric, value) : value === undefined ? "—" : String(value);
  const interval = candidate.intervals?.[metric];
  if (value !== undefined && interval && isMetricName(metric)) text += ` [${formatMetricValue(metric, interval.low)}–${formatMetricValue(metric, interval.high)}]`;
  return value !== undefined && candidate.estimatedMetrics.includes(metric) ? `${text} (est.)` : text;
}

export function describeMeasurement(measurement: MeasurementReport | undefined): string {
  if (!measurement) return "not measured";
  const parts = [
    `${measurement.runs} timed runs after ${measurement.warmupRuns} warm-up`,
    measurement.threads === undefined ? undefined : `${measurement.threads} thread${measurement.threads === 1 ? "" : "s"}`,
    measurement.executionProvider === undefined ? undefined : `EP ${measurement.executionProvider}`,
    measurement.runtimeVersion,
    measurement.isolation,
  ];
  return parts.filter((p) => p !== undefined && p !== "").join(", ");
}

/**
 * The measurement the "how it was measured" line describes: the judged candidate's (recommended, else closest),
 * else another candidate's; the input model's own is measured alone and says less about the comparisons.
 */
export function describeJudgedMeasurement(report: Report): string {
  const judged = candidateById(report, report.recommendation.candidateId ?? report.gates.closest?.candidateId);
  const shown = judged?.measurement ? judged : (report.candidates.find((c) => !c.isBaseline && c.measurement) ?? report.candidates.find((c) => c.measurement));
  return describeMeasurement(shown?.measurement);
}

/** The cache line of every rendering: distinct pass outputs reused and produced, and how many steps they served. */
export function describeCache(report: Report): string {
  if (!report.cache.enabled) return "disabled (--no-cache)";
  const steps = report.candidates.reduce((count, c) => count + c.passes.length, 0);
  const { hits, misses } = report.cache;
  return `${hits} pass output${hits === 1 ? "" : "s"} reused, ${misses} produced in this run, for ${steps} pass step${steps === 1 ? "" : "s"} over the candidates (${report.cache.dir})`;
}

export function describeMachine(report: Report): string {
  const m = report.machine;
  const cores = m.physicalCores === undefined ? `${m.logicalThreads} threads` : `${m.physicalCores} cores / ${m.logicalThreads} threads`;
  return `${m.cpu} (${m.architecture}, ${cores}), ${formatMetricValue("sizeBytes", m.totalMemoryBytes)} RAM, ${m.os}, Node ${m.node}`;
}

export function describePasses(candidate: CandidateReport): string {
  if (candidate.passes.length === 0) return "(none: the input model)";
  return candidate.passes.map((p) => `${p.passId}${optionsSuffix(p.chosenOptions ?? p.options)}`).join(" → ");
}

function optionsSuffix(options: Record<string, unknown>): string {
  const entries = Object.entries(options);
  if (entries.length === 0) return "";
  return `(${entries.map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : String(v)}`).join(", ")})`;
}

export function describeRuntime(candidate: CandidateReport): string {
  const r = candidate.runtime;
  return [
    r.runtime,
    r.threads === undefined ? undefined : `${r.threads}t`,
    r.graphOptimizationLevel && `opt=${r.graphOptimizationLevel}`,
    r.enableCpuMemArena === false ? "no-arena" : undefined,
    r.enableMemPattern === false ? "no-mem-pattern" : undefined,
    r.executionProvider,
    r.contextSize && `ctx=${r.contextSize}`,
  ]
    .filter(Boolean)
    .join(" ");
}

/** The columns worth showing: metrics measured for at least one candidate, in a fixed useful order. */
export function reportMetricColumns(report: Report): string[] {
  const preferred = [
    "speedup",
    "passSpeedup",
    "p50LatencyMs",
    "p95LatencyMs",
    "tokensPerSec",
    "promptTokensPerSec",
    "throughputPerSec",
    "modelMemoryBytes",
    "peakRssBytes",
    "rssIncreaseBytes",
    "sizeBytes",
    "accuracy",
    "accuracyRetention",
    "cosineSimilarity",
    "perplexity",
    "klDivergence",
    "memoryReduction",
    "energyJoules",
  ];
  const present = new Set(report.candidates.flatMap((c) => Object.keys(c.metrics)));
  return preferred.filter((m) => present.has(m));
}

/** A gate figure in the metric's unit (bytes as MiB, times in ms), or the plain number for metrics outside the catalog. */
export function formatGateValue(metric: string, value: number | undefined): string {
  if (value === undefined) return "—";
  return isMetricName(metric) ? formatMetricValue(metric, value) : String(Number(value.toPrecision(4)));
}

export function candidateById(report: Report, id: string | null | undefined): CandidateReport | undefined {
  return id === null || id === undefined ? undefined : report.candidates.find((c) => c.id === id);
}

/** What each figure in the candidate tables is, in one line per kind: every rendering prints this under its table. */
export function metricLegend(report: Report): string[] {
  const present = new Set(report.candidates.flatMap((c) => Object.keys(c.metrics)));
  const lines: string[] = [];
  if (present.has("speedup")) lines.push("speedup: measured side by side against the input model at its default settings (alternating blocks, same time window; median of per-round ratios, [95% bootstrap interval]); the speed-up gate is judged on the interval");
  if (present.has("passSpeedup")) lines.push("passSpeedup: the pass's own effect, against the input model at the candidate's own runtime settings");
  if (present.has("promptSpeedup")) lines.push("promptSpeedup (GGUF): prompt tokens/s ratio, side by side like speedup; speedup is the generation tokens/s ratio (tokens decoded one at a time)");
  const reported = report.candidates.filter((c) => c.sideBySide?.memory.parts);
  if (present.has("modelMemoryBytes")) {
    lines.push(
      reported.length > 0
        ? "modelMemoryBytes: model-attributable memory = what the runtime allocated for the model (GGUF: weights + KV cache + compute buffers, as llama.cpp reports them); memoryReduction uses it"
        : "modelMemoryBytes: model-attributable memory = peak RSS minus a reference process with the same runtime and settings running a trivial model; memoryReduction uses it",
    );
  }
  for (const c of reported) {
    const parts = c.sideBySide?.memory.parts ?? [];
    lines.push(`modelMemoryBytes of ${c.id}: ${parts.map((p) => `${p.name} ${formatMetricValue("modelMemoryBytes", p.bytes)} (${p.includes})`).join(" + ")}`);
  }
  for (const c of report.candidates) {
    const m = c.sideBySide?.memory;
    if (m?.memoryReductionBasis && m.candidateMemoryOnBasisBytes !== undefined && m.baselineModelMemoryBytes !== undefined) {
      lines.push(`memoryReduction of ${c.id}: ${formatMetricValue("modelMemoryBytes", m.candidateMemoryOnBasisBytes)} vs the input model's ${formatMetricValue("modelMemoryBytes", m.baselineModelMemoryBytes)}, ${m.memoryReductionBasis}`);
    }
  }
  if (present.has("peakRssBytes")) lines.push("peakRssBytes: whole-process peak RSS (Node + runtime + model + inputs)");
  if (report.input.shapes) lines.push(`inputs: every candidate ran at ${formatShapes(report.input.shapes)}`);
  if (present.has("p50LatencyMs")) lines.push("p50/p95 latency: absolute, during the candidate's own blocks: as slow as the machine was at the time; compare candidates by speedup");
  return lines;
}
