import type { MetricValues } from "../pareto/metric-catalog.js";
import type { BenchSummary, Measurement, SuccessfulMeasurement } from "../reports/bench-record.js";
import { bootstrapInterval } from "../stats/bootstrap.js";
import { median, relativeSpread } from "../stats/describe-samples.js";
import { createRandom } from "../stats/random.js";
import { latencyStats } from "./time-runs.js";

/**
 * One artifact's figures across repetitions: latency over all timed runs pooled, medians of the
 * per-repetition figures, and how far the repetitions' p50s land apart.
 */
export function summarizeMeasurements(measurements: readonly Measurement[], pooledLatenciesNs: readonly number[], cvThreshold: number, seed: number): BenchSummary | undefined {
  const ok = measurements.filter((m): m is SuccessfulMeasurement => m.status === "ok");
  if (ok.length === 0 || pooledLatenciesNs.length === 0) return undefined;
  const medianOf = (pick: (m: SuccessfulMeasurement) => number): number => median(ok.map(pick));
  const p50SpreadRatio = ok.length > 1 ? relativeSpread(ok.map((m) => m.latency.p50Ms)) : 0;
  const interval = bootstrapInterval(pooledLatenciesNs, createRandom(seed), { resamples: 500 });
  const flags = [...new Set(ok.flatMap((m) => m.stability.flags))];
  if (p50SpreadRatio > cvThreshold) flags.push("repetitions-disagree");
  const tokens = ok.every((m) => m.tokensPerSec !== undefined) ? medianOf((m) => m.tokensPerSec as number) : undefined;
  const generation = ok.every((m) => m.generationTokensPerSec !== undefined) ? medianOf((m) => m.generationTokensPerSec as number) : undefined;
  const increases = ok.filter((m) => m.rssIncreaseBytes !== undefined).map((m) => m.rssIncreaseBytes as number);
  const energies = ok.flatMap((m) => [m.energy.cpu, m.energy.gpu].filter((e) => e.available).map((e) => (e.available ? e.joulesPerInference : 0)));
  return {
    repetitionsOk: ok.length,
    loadMs: medianOf((m) => m.loadMs),
    firstInferenceMs: medianOf((m) => m.firstInferenceMs),
    latency: latencyStats(pooledLatenciesNs),
    p50CiMs: { low: interval.low / 1e6, high: interval.high / 1e6 },
    p50SpreadRatio,
    runsPerSec: medianOf((m) => m.runsPerSec),
    samplesPerSec: medianOf((m) => m.samplesPerSec),
    ...(tokens === undefined ? {} : { tokensPerSec: tokens }),
    ...(generation === undefined ? {} : { generationTokensPerSec: generation }),
    peakRssBytes: Math.max(...ok.map((m) => m.peakRssBytes)),
    ...(increases.length > 0 ? { rssIncreaseBytes: median(increases) } : {}),
    ...(energies.length > 0 ? { energyJoulesPerInference: energies.reduce((a, b) => a + b, 0) / ok.length } : {}),
    unstable: flags.length > 0,
    flags,
  };
}

/** The summary under the metric catalog's names, so frontiers and gates read bench results directly. */
export function summaryMetrics(summary: BenchSummary | undefined, sizeBytes: number): MetricValues {
  const metrics: MetricValues = { sizeBytes };
  if (!summary) return metrics;
  Object.assign(metrics, {
    loadMs: summary.loadMs,
    firstInferenceMs: summary.firstInferenceMs,
    minLatencyMs: summary.latency.minMs,
    meanLatencyMs: summary.latency.meanMs,
    p50LatencyMs: summary.latency.p50Ms,
    p90LatencyMs: summary.latency.p90Ms,
    p95LatencyMs: summary.latency.p95Ms,
    p99LatencyMs: summary.latency.p99Ms,
    maxLatencyMs: summary.latency.maxMs,
    latencyCv: summary.latency.cv,
    throughputPerSec: summary.runsPerSec,
    peakRssBytes: summary.peakRssBytes,
  } satisfies MetricValues);
  if (summary.rssIncreaseBytes !== undefined) metrics.rssIncreaseBytes = summary.rssIncreaseBytes;
  if (summary.energyJoulesPerInference !== undefined) metrics.energyJoules = summary.energyJoulesPerInference;
  if (summary.tokensPerSec !== undefined) metrics.promptTokensPerSec = summary.tokensPerSec;
  if (summary.generationTokensPerSec !== undefined) metrics.tokensPerSec = summary.generationTokensPerSec;
  return metrics;
}
