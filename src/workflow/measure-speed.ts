import { runBenchmark } from "../bench/run-benchmark.js";
import type { Reporter } from "../core/logger.js";
import type { MetricValues } from "../pareto/metric-catalog.js";
import type { LatencySummary, MeasurementReport } from "../reports/report.js";
import type { RuntimeId } from "../runtimes/catalog.js";
import type { RuntimeSettings } from "../runtimes/runtime-settings.js";
import type { PlannedRuntime } from "./plan-types.js";
import type { WorkflowConfig } from "./workflow-config.js";

export interface SpeedMeasurement {
  ok: boolean;
  error?: { code: string; message: string };
  metrics: MetricValues;
  latency?: LatencySummary;
  measurement?: MeasurementReport;
}

export function runtimeSettingsOf(runtime: PlannedRuntime): RuntimeSettings {
  return {
    ...(runtime.threads === undefined ? {} : { threads: runtime.threads }),
    ...(runtime.graphOptimizationLevel === undefined ? {} : { graphOptimizationLevel: runtime.graphOptimizationLevel }),
    ...(runtime.executionProvider === undefined ? {} : { executionProviders: [runtime.executionProvider] }),
    ...(runtime.contextSize === undefined ? {} : { contextSize: runtime.contextSize }),
  };
}

/**
 * Latency, throughput and memory of one candidate through the benchmark harness: its own child
 * process, warm-up, fixed timed runs, peak RSS against an idle child. The same harness as
 * `edgeforge bench`, so the two agree.
 */
export async function measureSpeed(artifactPath: string, runtime: PlannedRuntime, config: WorkflowConfig, reporter: Reporter): Promise<SpeedMeasurement> {
  const record = await runBenchmark({
    models: [artifactPath],
    runtime: runtime.runtime as RuntimeId,
    settings: runtimeSettingsOf(runtime),
    shapes: config.measurement.shapes,
    iterations: config.measurement.runs,
    warmupIterations: config.measurement.warmupRuns,
    repetitions: 1,
    seed: config.search.seed,
    sweepSizes: [],
    ...(reporter.signal ? { signal: reporter.signal } : {}),
    ...(reporter.logger ? { logger: reporter.logger } : {}),
  });
  const result = record.results[0];
  const measured = result?.measurements.find((m) => m.status === "ok");
  if (!result || !result.summary || !measured || measured.status !== "ok") {
    const failure = result?.measurements.find((m) => m.status === "failed");
    const error = failure?.status === "failed" ? { code: failure.error.code, message: `${failure.error.message}${failure.error.stderrTail ? ` — ${failure.error.stderrTail.trim().split("\n").at(-1)}` : ""}` } : { code: "MEASUREMENT_FAILED", message: "no measurement came back" };
    return { ok: false, error, metrics: {} };
  }
  const { summary } = result;
  const flags = [...new Set([...summary.flags, ...measured.stability.flags])];
  return {
    ok: true,
    metrics: result.metrics,
    latency: {
      count: summary.latency.count,
      minMs: summary.latency.minMs,
      meanMs: summary.latency.meanMs,
      p50Ms: summary.latency.p50Ms,
      p90Ms: summary.latency.p90Ms,
      p95Ms: summary.latency.p95Ms,
      p99Ms: summary.latency.p99Ms,
      maxMs: summary.latency.maxMs,
      sdMs: summary.latency.sdMs,
    },
    measurement: {
      runs: summary.latency.count,
      warmupRuns: measured.warmupIterations,
      ...(measured.session.intraOpThreads === undefined ? (runtime.threads === undefined ? {} : { threads: runtime.threads }) : { threads: measured.session.intraOpThreads }),
      executionProvider: measured.session.executionProvider,
      runtimeVersion: `${measured.session.runtime} ${measured.session.runtimeVersion}`,
      isolation: `own child process, memory vs an idle child (${measured.memorySource})`,
      notes: flags,
    },
  };
}
