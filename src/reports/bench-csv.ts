import type { BenchRecord, BenchResult, Measurement } from "./bench-record.js";

type Row = Record<string, string | number | undefined>;

/** One flat row per measurement (artifact × repetition); names and units match the JSON record. */
function measurementRow(record: BenchRecord, result: BenchResult, m: Measurement): Row {
  const base: Row = {
    createdAt: record.createdAt,
    label: result.artifact.label,
    path: result.artifact.path,
    format: result.artifact.format,
    sha256: result.artifact.sha256,
    sizeBytes: result.artifact.sizeBytes,
    runtime: result.runtime,
    repetition: m.repetition,
    order: m.order,
    status: m.status,
    childWallMs: m.childWallMs,
  };
  if (m.status === "failed") {
    return { ...base, errorCode: m.error.code, errorMessage: m.error.message, exitCode: m.error.exitCode ?? undefined, signal: m.error.signal ?? undefined };
  }
  return {
    ...base,
    runtimeVersion: m.session.runtimeVersion,
    executionProvider: m.session.executionProvider,
    threads: m.session.intraOpThreads,
    inputs: m.inputs.source,
    shapes: Object.entries(m.inputs.shapes)
      .map(([name, dims]) => `${name}=${dims.join("x")}`)
      .join(" "),
    loadMs: m.loadMs,
    firstInferenceMs: m.firstInferenceMs,
    warmupIterations: m.warmupIterations,
    iterations: m.latency.count,
    minMs: m.latency.minMs,
    meanMs: m.latency.meanMs,
    p50Ms: m.latency.p50Ms,
    p90Ms: m.latency.p90Ms,
    p95Ms: m.latency.p95Ms,
    p99Ms: m.latency.p99Ms,
    maxMs: m.latency.maxMs,
    sdMs: m.latency.sdMs,
    cv: m.latency.cv,
    driftRatio: m.stability.driftRatio,
    flags: m.stability.flags.join(" "),
    runsPerSec: m.runsPerSec,
    samplesPerSec: m.samplesPerSec,
    tokensPerSec: m.tokensPerSec,
    peakRssBytes: m.peakRssBytes,
    rssIncreaseBytes: m.rssIncreaseBytes,
    cpuEnergyJoulesPerInference: m.energy.cpu.available ? m.energy.cpu.joulesPerInference : undefined,
    gpuEnergyJoulesPerInference: m.energy.gpu.available ? m.energy.gpu.joulesPerInference : undefined,
  };
}

export const benchCsvColumns = [
  "createdAt",
  "label",
  "path",
  "format",
  "sha256",
  "sizeBytes",
  "runtime",
  "runtimeVersion",
  "executionProvider",
  "threads",
  "inputs",
  "shapes",
  "repetition",
  "order",
  "status",
  "loadMs",
  "firstInferenceMs",
  "warmupIterations",
  "iterations",
  "minMs",
  "meanMs",
  "p50Ms",
  "p90Ms",
  "p95Ms",
  "p99Ms",
  "maxMs",
  "sdMs",
  "cv",
  "driftRatio",
  "flags",
  "runsPerSec",
  "samplesPerSec",
  "tokensPerSec",
  "peakRssBytes",
  "rssIncreaseBytes",
  "cpuEnergyJoulesPerInference",
  "gpuEnergyJoulesPerInference",
  "childWallMs",
  "errorCode",
  "errorMessage",
  "exitCode",
  "signal",
] as const;

function csvCell(value: string | number | undefined): string {
  if (value === undefined) return "";
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function renderBenchCsv(record: BenchRecord): string {
  const lines = [benchCsvColumns.join(",")];
  for (const result of record.results) {
    for (const m of result.measurements) {
      const row = measurementRow(record, result, m);
      lines.push(benchCsvColumns.map((column) => csvCell(row[column])).join(","));
    }
  }
  return `${lines.join("\n")}\n`;
}

/** One self-contained JSON object per measurement, with the run's provenance and config repeated on each line. */
export function renderBenchJsonl(record: BenchRecord): string {
  const lines: string[] = [];
  for (const result of record.results) {
    for (const m of result.measurements) {
      lines.push(
        JSON.stringify({
          schemaVersion: record.schemaVersion,
          kind: "edgeforge.bench.measurement",
          createdAt: record.createdAt,
          artifact: result.artifact,
          runtime: result.runtime,
          ...m,
          provenance: record.provenance,
          config: record.config,
        }),
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

export const benchFormats = ["md", "csv", "json", "jsonl"] as const;
export type BenchFormat = (typeof benchFormats)[number];
