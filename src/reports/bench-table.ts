import { formatShapes } from "../core/shapes.js";
import { formatBytes, formatMs } from "../core/units.js";
import type { RatioEstimate } from "../stats/paired-ratio.js";
import type { BenchRecord, BenchResult, EnergyReading, SuccessfulMeasurement } from "./bench-record.js";

interface Column {
  title: string;
  /** Identity columns describe the setup; they are shown only when they differ between rows. */
  identity: boolean;
  value: (result: BenchResult, first: SuccessfulMeasurement | undefined) => string | undefined;
}

const dash = "—";

function firstOk(result: BenchResult): SuccessfulMeasurement | undefined {
  return result.measurements.find((m): m is SuccessfulMeasurement => m.status === "ok");
}

function formatRate(value: number | undefined, unit: string): string | undefined {
  return value === undefined ? undefined : `${value >= 100 ? value.toFixed(0) : value.toPrecision(3)}${unit}`;
}

const columns: Column[] = [
  { title: "runtime", identity: true, value: (r, m) => (m ? `${r.runtime} ${m.session.runtimeVersion}` : undefined) },
  { title: "EP", identity: true, value: (_r, m) => m?.session.executionProvider },
  { title: "threads", identity: true, value: (_r, m) => (m?.session.intraOpThreads === undefined ? undefined : String(m.session.intraOpThreads)) },
  { title: "inputs", identity: true, value: (_r, m) => (m ? `${m.inputs.source} ${formatShapes(m.inputs.shapes)}` : undefined) },
  { title: "size", identity: false, value: (r) => formatBytes(r.artifact.sizeBytes) },
  { title: "load", identity: false, value: (r) => (r.summary ? formatMs(r.summary.loadMs) : undefined) },
  { title: "first run", identity: false, value: (r) => (r.summary ? formatMs(r.summary.firstInferenceMs) : undefined) },
  { title: "p50", identity: false, value: (r) => (r.summary ? formatMs(r.summary.latency.p50Ms) : undefined) },
  { title: "p90", identity: false, value: (r) => (r.summary ? formatMs(r.summary.latency.p90Ms) : undefined) },
  { title: "p99", identity: false, value: (r) => (r.summary ? formatMs(r.summary.latency.p99Ms) : undefined) },
  {
    title: "mean ± sd",
    identity: false,
    value: (r) => (r.summary ? `${formatMs(r.summary.latency.meanMs)} ± ${formatMs(r.summary.latency.sdMs)}` : undefined),
  },
  { title: "CV", identity: false, value: (r) => (r.summary ? `${(r.summary.latency.cv * 100).toFixed(1)}%` : undefined) },
  { title: "runs/s", identity: false, value: (r) => formatRate(r.summary?.runsPerSec, "") },
  { title: "tokens/s", identity: false, value: (r) => formatRate(r.summary?.tokensPerSec, "") },
  { title: "gen tokens/s", identity: false, value: (r) => formatRate(r.summary?.generationTokensPerSec, "") },
  { title: "peak RSS", identity: false, value: (r) => (r.summary ? formatBytes(r.summary.peakRssBytes) : undefined) },
  {
    title: "RSS over idle",
    identity: false,
    value: (r) => (r.summary?.rssIncreaseBytes === undefined ? undefined : formatBytes(r.summary.rssIncreaseBytes)),
  },
  {
    title: "energy/run",
    identity: false,
    value: (r) => (r.summary?.energyJoulesPerInference === undefined ? undefined : `${r.summary.energyJoulesPerInference.toPrecision(3)} J`),
  },
  {
    title: "status",
    identity: false,
    value: (r) => {
      const failed = r.measurements.filter((m) => m.status === "failed").length;
      const parts = [r.status === "ok" ? "ok" : `${r.status} (${failed}/${r.measurements.length} failed)`];
      if (r.summary?.unstable) parts.push(`unstable: ${r.summary.flags.join(", ")}`);
      return parts.join("; ");
    },
  },
];

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function energyNote(record: BenchRecord): string | undefined {
  const readings: EnergyReading[] = record.results.flatMap((r) => {
    const energy = firstOk(r)?.energy;
    return energy ? [energy.cpu, energy.gpu] : [];
  });
  const reasons = [...new Set(readings.filter((e) => !e.available).map((e) => (e.available ? "" : e.reason)))];
  return readings.some((e) => e.available) || reasons.length === 0 ? undefined : `energy: not measured (${reasons.join("; ")})`;
}

/**
 * A side-by-side Markdown table: one row per artifact. Setup columns that are the same for every
 * row move to a "common" line, and figures nobody has (energy without counters) are dropped.
 */
export function renderBenchMarkdown(record: BenchRecord): string {
  const rows = record.results.map((result) => {
    const first = firstOk(result);
    return columns.map((column) => column.value(result, first));
  });
  const kept: number[] = [];
  const common: string[] = [];
  columns.forEach((column, index) => {
    const values = rows.map((row) => row[index]);
    const present = values.filter((v): v is string => v !== undefined);
    if (present.length === 0) return;
    if (column.identity && new Set(present).size === 1) common.push(`${column.title} ${present[0]}`);
    else kept.push(index);
  });
  const c = record.config;
  const stopping = c.iterations !== undefined ? `${c.iterations} iterations` : `≥ ${c.minTimeMs} ms`;
  const p = record.provenance;
  const lines = [
    `# edgeforge bench`,
    "",
    `${record.createdAt} · ${p.cpuModel} (${p.logicalCores} logical cores, load ${p.loadAverage.map((l) => l.toFixed(2)).join(" ")}) · node ${p.nodeVersion} · edgeforge ${p.edgeforgeVersion}${p.gitRevision ? ` (${p.gitRevision.slice(0, 12)})` : ""}`,
    `each artifact in its own process, ${c.repetitions} repetition(s) in seeded random order (seed ${c.seed}), ${c.warmupIterations} warm-up${c.settleMs ? ` + ${c.settleMs} ms settling` : ""} + ${stopping} per repetition${c.cpus ? `, pinned to CPUs ${c.cpus}` : ""}`,
  ];
  if (common.length > 0) lines.push(`common: ${common.join(" · ")}`);
  const note = energyNote(record);
  if (note) lines.push(note);
  if ("peakRssBytes" in record.idleChild) lines.push(`idle child peak RSS: ${formatBytes(record.idleChild.peakRssBytes)}`);
  lines.push("");
  const header = ["model", ...kept.map((index) => (columns[index] as Column).title)];
  lines.push(`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`);
  record.results.forEach((result, r) => {
    const cells = [result.artifact.label, ...kept.map((index) => rows[r]?.[index] ?? dash)];
    lines.push(`| ${cells.map(escapeCell).join(" | ")} |`);
  });
  lines.push(...renderSideBySide(record), ...renderSweeps(record), ...renderFailures(record));
  return `${lines.join("\n")}\n`;
}

function formatRatio(estimate: RatioEstimate | undefined): string {
  if (!estimate || !Number.isFinite(estimate.ratio)) return dash;
  return `${estimate.ratio.toFixed(2)}× [${estimate.low.toFixed(2)}, ${estimate.high.toFixed(2)}]`;
}

/** `--compare`'s table; without it, a note that rows measured one after another give no ratio. */
function renderSideBySide(record: BenchRecord): string[] {
  const side = record.sideBySide;
  if (!side) {
    const measured = record.results.filter((r) => r.summary).length;
    return measured < 2 ? [] : ["", "Each row was measured alone, one after another: their p50s are not a speed-up. For ratios with intervals, measured side by side in one time window, add --compare."];
  }
  const generating = side.arms.some((arm) => arm.generationTokensPerSec !== undefined);
  const header = ["model", "p50", "speed-up vs " + side.baseline, "throughput ratio", ...(generating ? ["gen tokens/s ratio"] : []), "model memory"];
  const lines = ["", `## side by side, against ${side.baseline}`, "", `| ${header.map(escapeCell).join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const arm of side.arms) {
    const comparison = side.comparisons.find((c) => c.candidate === arm.label);
    const isBaseline = arm.label === side.baseline;
    const cells = [
      arm.label,
      formatMs(arm.p50Ms),
      isBaseline ? "1.00× (baseline)" : formatRatio(comparison?.latencyRatio),
      isBaseline ? "1.00×" : formatRatio(comparison?.rateRatio),
      ...(generating ? [isBaseline ? "1.00×" : formatRatio(comparison?.generationRatio)] : []),
      arm.modelBytes === undefined ? dash : formatBytes(arm.modelBytes),
    ];
    lines.push(`| ${cells.map(escapeCell).join(" | ")} |`);
  }
  const memorySources = [...new Set(side.arms.flatMap((arm) => (arm.modelBytesSource ? [arm.modelBytesSource] : [])))];
  lines.push(
    "",
    `speed-up = median over ${side.rounds} rounds of the baseline's block p50 / the model's, 95% bootstrap interval; p50 pooled over the blocks, as slow as the machine was (${side.stoppedBecause}).`,
    ...(memorySources.length > 0 ? [`model memory: ${memorySources.join("; ")}.`] : []),
    `how: ${side.method}.`,
  );
  return lines;
}

function renderSweeps(record: BenchRecord): string[] {
  const lines: string[] = [];
  for (const result of record.results) {
    const sweep = firstOk(result)?.sweep;
    if (!sweep?.available) continue;
    if (lines.length === 0) lines.push("", "## throughput sweep", "", "| model | axis | size | p50 | runs/s | items/s |", "|---|---|---|---|---|---|");
    for (const point of sweep.points) {
      const cells =
        point.status === "ok"
          ? [formatMs(point.p50LatencyMs ?? Number.NaN), formatRate(point.runsPerSec, "") ?? dash, formatRate(point.itemsPerSec, "") ?? dash]
          : [`failed: ${point.error ?? ""}`, dash, dash];
      lines.push(`| ${[result.artifact.label, sweep.axis, String(point.size), ...cells].map(escapeCell).join(" | ")} |`);
    }
  }
  return lines;
}

function renderFailures(record: BenchRecord): string[] {
  const lines: string[] = [];
  for (const result of record.results) {
    for (const m of result.measurements) {
      if (m.status !== "failed") continue;
      if (lines.length === 0) lines.push("", "## failures");
      const exit = m.error.signal ? `signal ${m.error.signal}` : m.error.exitCode === undefined ? "" : `exit code ${m.error.exitCode}`;
      lines.push("", `- **${result.artifact.label}** (repetition ${m.repetition + 1}): error[${m.error.code}] ${m.error.message}${exit ? ` (${exit})` : ""}`);
      if (m.error.hint) lines.push(`  hint: ${m.error.hint}`);
      if (m.error.stderrTail.trim()) lines.push("", "  ```", ...m.error.stderrTail.trimEnd().split("\n").map((l) => `  ${l}`), "  ```");
    }
  }
  return lines;
}
