import { describe, expect, it } from "vitest";
import { benchCsvColumns, renderBenchCsv, renderBenchJsonl } from "./bench-csv.js";
import type { BenchRecord, FailedMeasurement, SuccessfulMeasurement } from "./bench-record.js";
import { renderBenchMarkdown } from "./bench-table.js";
import { renderBench } from "./render-bench.js";

function ok(p50Ms: number, threads: number): SuccessfulMeasurement {
  return {
    status: "ok",
    repetition: 0,
    order: 0,
    loadMs: 100,
    firstInferenceMs: 5,
    warmupIterations: 5,
    stoppingRule: "iterations",
    measuredMs: 50,
    latency: { count: 10, minMs: p50Ms - 0.1, meanMs: p50Ms, p50Ms, p90Ms: p50Ms + 0.1, p95Ms: p50Ms + 0.2, p99Ms: p50Ms + 0.3, maxMs: p50Ms + 0.4, sdMs: 0.05, cv: 0.05 / p50Ms },
    stability: { cvThreshold: 0.1, driftRatio: 0, converged: true, flags: [] },
    runsPerSec: 1000 / p50Ms,
    samplesPerSec: 1000 / p50Ms,
    sweep: { available: false, reason: "no sweep sizes requested" },
    concurrency: { measured: false, reason: "n/a" },
    peakRssBytes: 100 * 2 ** 20,
    rssAfterLoadBytes: 90 * 2 ** 20,
    rssIncreaseBytes: 40 * 2 ** 20,
    memorySource: "VmHWM",
    energy: { cpu: { available: false, reason: "no RAPL counters" }, gpu: { available: false, reason: "nvidia-smi not found" } },
    session: { runtime: "ort", runtimeVersion: "1.30.0", executionProvider: "cpu", requestedProviders: ["cpu"], intraOpThreads: threads, settings: {} },
    inputs: { source: "generated", seed: 1, sets: 4, shapes: { x: [1, 3, 8, 8] }, dtypes: { x: "float32" }, totalBytes: 3072 },
    childWallMs: 900,
  };
}

const crash: FailedMeasurement = {
  status: "failed",
  repetition: 0,
  order: 1,
  error: { code: "MEASUREMENT_FAILED", message: "the measuring process was killed by SIGABRT without a result", exitCode: null, signal: "SIGABRT", stderrTail: "aborting on purpose\n" },
  childWallMs: 300,
};

function record(threadsB: number): BenchRecord {
  const summary = (m: SuccessfulMeasurement) => ({
    repetitionsOk: 1,
    loadMs: m.loadMs,
    firstInferenceMs: m.firstInferenceMs,
    latency: m.latency,
    p50CiMs: { low: m.latency.p50Ms, high: m.latency.p50Ms },
    p50SpreadRatio: 0,
    runsPerSec: m.runsPerSec,
    samplesPerSec: m.samplesPerSec,
    peakRssBytes: m.peakRssBytes,
    rssIncreaseBytes: 40 * 2 ** 20,
    unstable: false,
    flags: [],
  });
  const a = ok(1.5, 1);
  const b = ok(3, threadsB);
  return {
    schemaVersion: 1,
    kind: "edgeforge.bench",
    createdAt: "2026-01-01T00:00:00.000Z",
    provenance: {
      cpuModel: "Test CPU",
      logicalCores: 2,
      availableParallelism: 2,
      totalMemoryBytes: 2 ** 33,
      platform: "linux",
      arch: "x64",
      osRelease: "6.0",
      nodeVersion: "v20.0.0",
      edgeforgeVersion: "0.1.0",
      gitRevision: null,
      loadAverage: [0.5, 0.4, 0.3],
      runtimeVersions: { ort: "1.30.0" },
    },
    config: { warmupIterations: 5, repetitions: 1, seed: 1, cvThreshold: 0.1, sweepSizes: [], inputSets: 4, shapes: {}, iterations: 10, timeoutMs: 1000 },
    idleChild: { peakRssBytes: 60 * 2 ** 20 },
    order: [["a.onnx", "b.onnx", "c.onnx"]],
    results: [
      { artifact: { label: "a.onnx", path: "/m/a.onnx", format: "onnx", sizeBytes: 1000, sha256: "aa" }, runtime: "ort", status: "ok", measurements: [a], summary: summary(a), metrics: {} },
      { artifact: { label: "b.onnx", path: "/m/b.onnx", format: "onnx", sizeBytes: 2000, sha256: "bb" }, runtime: "ort", status: "ok", measurements: [b], summary: summary(b), metrics: {} },
      { artifact: { label: "c,|.onnx", path: "/m/c.onnx", format: "onnx", sizeBytes: 3000, sha256: "cc" }, runtime: "ort", status: "failed", measurements: [crash], metrics: {} },
    ],
  };
}

describe("renderBenchMarkdown", () => {
  it("moves setup columns that do not vary to a common line and keeps those that do", () => {
    const sameThreads = renderBenchMarkdown(record(1));
    expect(sameThreads).toContain("common: runtime ort 1.30.0 · EP cpu · threads 1");
    expect(sameThreads.split("\n").find((l) => l.startsWith("| model"))).not.toContain("threads");
    const differentThreads = renderBenchMarkdown(record(4));
    expect(differentThreads.split("\n").find((l) => l.startsWith("| model"))).toContain("| threads |");
  });

  it("drops figures nobody has, says why, and lists failures with the stderr tail", () => {
    const text = renderBenchMarkdown(record(1));
    expect(text).not.toContain("energy/run");
    expect(text).toContain("energy: not measured (no RAPL counters; nvidia-smi not found)");
    expect(text).toContain("| a.onnx |");
    expect(text).toContain("c,\\|.onnx");
    expect(text).toContain("error[MEASUREMENT_FAILED]");
    expect(text).toContain("signal SIGABRT");
    expect(text).toContain("aborting on purpose");
  });
});

describe("CSV and JSONL", () => {
  it("writes one row per measurement with quoted cells", () => {
    const lines = renderBenchCsv(record(1)).trimEnd().split("\n");
    expect(lines[0]).toBe(benchCsvColumns.join(","));
    expect(lines).toHaveLength(4);
    expect(lines[3]).toContain('"c,|.onnx"');
    const header = (lines[0] as string).split(",");
    const first = (lines[1] as string).split(",");
    expect(first[header.indexOf("p50Ms")]).toBe("1.5");
    expect(first[header.indexOf("status")]).toBe("ok");
  });

  it("writes self-contained JSON lines", () => {
    const lines = renderBenchJsonl(record(1)).trimEnd().split("\n").map((line) => JSON.parse(line));
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({ kind: "edgeforge.bench.measurement", status: "failed", artifact: { label: "c,|.onnx" }, provenance: { cpuModel: "Test CPU" } });
  });

  it("renders JSON as the record itself", () => {
    expect(JSON.parse(renderBench(record(1), "json"))).toEqual(record(1));
  });
});
