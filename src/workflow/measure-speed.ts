import { measureInterleaved, type ArmResult, type ComparisonResult, type InterleavedResult, type SideBySideArm, type SideBySideComparison } from "../bench/measure-side-by-side.js";
import { runBenchmark } from "../bench/run-benchmark.js";
import type { ModelFormat } from "../core/artifact.js";
import { EdgeforgeError } from "../core/errors.js";
import type { MetricIntervals } from "../gates/evaluate-gates.js";
import type { Reporter } from "../core/logger.js";
import type { MetricValues } from "../pareto/metric-catalog.js";
import type { CandidateReport, LatencySummary, MeasurementReport, SideBySideReport } from "../reports/report.js";
import type { RuntimeId } from "../runtimes/catalog.js";
import type { RuntimeSettings } from "../runtimes/runtime-settings.js";
import { compareModelMemory } from "./compare-memory.js";
import { describeBaselineBlocks } from "./baseline-blocks.js";
import { describeRuntimeChoice } from "./generate-plan.js";
import type { PlannedRuntime } from "./plan-types.js";
import type { WorkflowConfig } from "./workflow-config.js";

export interface SpeedMeasurement {
  ok: boolean;
  error?: { code: string; message: string; hint?: string };
  metrics: MetricValues;
  latency?: LatencySummary;
  measurement?: MeasurementReport;
}

export function runtimeSettingsOf(runtime: PlannedRuntime): RuntimeSettings {
  return {
    ...(runtime.threads === undefined ? {} : { threads: runtime.threads }),
    ...(runtime.graphOptimizationLevel === undefined ? {} : { graphOptimizationLevel: runtime.graphOptimizationLevel }),
    ...(runtime.enableCpuMemArena === undefined ? {} : { enableCpuMemArena: runtime.enableCpuMemArena }),
    ...(runtime.enableMemPattern === undefined ? {} : { enableMemPattern: runtime.enableMemPattern }),
    ...(runtime.executionProvider === undefined ? {} : { executionProviders: [runtime.executionProvider] }),
    ...(runtime.contextSize === undefined ? {} : { contextSize: runtime.contextSize }),
    ...(runtime.batchSize === undefined ? {} : { batchSize: runtime.batchSize }),
  };
}

/** A reported candidate's runtime settings: the report records the planned runtime as optimize measured it. */
export function runtimeSettingsOfCandidate(candidate: Pick<CandidateReport, "runtime">): RuntimeSettings {
  return runtimeSettingsOf(candidate.runtime as PlannedRuntime);
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
    const error =
      failure?.status === "failed"
        ? { code: failure.error.code, message: `${failure.error.message}${failure.error.stderrTail ? ` — ${failure.error.stderrTail.trim().split("\n").at(-1)}` : ""}`, ...(failure.error.hint ? { hint: failure.error.hint } : {}) }
        : { code: "MEASUREMENT_FAILED", message: "no measurement came back" };
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

export interface SideBySideSpeed {
  ok: boolean;
  error?: { code: string; message: string; hint?: string };
  /** The candidate's own figures (absolute, as slow as the machine was) plus its side-by-side ratios. */
  metrics: MetricValues;
  intervals: MetricIntervals;
  latency?: LatencySummary;
  measurement?: MeasurementReport;
  sideBySide?: SideBySideReport;
}

export interface SpeedArms {
  /** The model every ratio is against (the input model, or the baseline chain's output). */
  input: { path: string; format: ModelFormat };
  /** The input model's runtime settings as users run it by default. */
  defaultRuntime: PlannedRuntime;
  candidate: { path: string; format: ModelFormat; runtime: PlannedRuntime; isBaseline: boolean; hasPasses: boolean };
  /** The speed-up gate's threshold: more rounds are measured while the interval straddles it. */
  speedupThreshold?: number;
}

function sameSettings(a: PlannedRuntime, b: PlannedRuntime): boolean {
  return JSON.stringify(runtimeSettingsOf(a)) === JSON.stringify(runtimeSettingsOf(b)) && a.runtime === b.runtime;
}

function errorOf(error: unknown): { code: string; message: string; hint?: string } {
  if (EdgeforgeError.isInstance(error)) return { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  return { code: "MEASUREMENT_FAILED", message: error instanceof Error ? error.message : String(error) };
}

/**
 * A candidate's speed and memory, measured side by side with the input model in one time window:
 * arms = input model at its default settings, the input model at the candidate's settings (when
 * they differ), and the candidate. `speedup` (what the gate judges) is against the first, so it
 * includes what the settings did; `passSpeedup` is against the second: what the pass alone did.
 * LLMs (GGUF on llama.cpp, MLX folders on node-mlx) are compared on generation tokens/s, ONNX models on p50 latency.
 */
export async function measureCandidateSpeed(arms: SpeedArms, config: WorkflowConfig, reporter: Reporter): Promise<SideBySideSpeed> {
  const { input, defaultRuntime, candidate } = arms;
  // LLM engines (llama.cpp, MLX) are compared on tokens/s over the same tokens.
  const llm = candidate.format === "gguf" || candidate.format === "mlx";
  const arm = (label: string, path: string, format: ModelFormat, runtime: PlannedRuntime): SideBySideArm => ({ label, artifactPath: path, format, runtime: runtime.runtime as RuntimeId, settings: runtimeSettingsOf(runtime) });
  const defaultLabel = `input model at default settings (${describeRuntimeChoice(defaultRuntime)})`;
  const list: SideBySideArm[] = [arm(defaultLabel, input.path, input.format, defaultRuntime)];
  const comparisons: SideBySideComparison[] = [];
  const decideOn = llm ? "generation" : "latency";
  let passComparison: number | undefined;
  if (!candidate.isBaseline) {
    // The input model at the candidate's settings only where the candidate's runtime reads the input (not MLX).
    const settingsDiffer = !sameSettings(candidate.runtime, defaultRuntime) && candidate.runtime.runtime === defaultRuntime.runtime;
    if (candidate.hasPasses && settingsDiffer) list.push(arm(`input model at the candidate's settings (${describeRuntimeChoice(candidate.runtime)})`, input.path, input.format, candidate.runtime));
    list.push(arm("candidate", candidate.path, candidate.format, candidate.runtime));
    const last = list.length - 1;
    comparisons.push({ baseline: 0, candidate: last, decideOn, ...(arms.speedupThreshold === undefined ? {} : { threshold: arms.speedupThreshold }) });
    if (list.length === 3) {
      comparisons.push({ baseline: 1, candidate: last, decideOn });
      passComparison = 1;
    } else if (candidate.hasPasses) passComparison = 0;
  }
  let result: InterleavedResult;
  try {
    result = await measureInterleaved({
      arms: list,
      comparisons,
      shapes: config.measurement.shapes,
      seed: config.search.seed,
      warmupIterations: config.measurement.warmupRuns,
      // At least `runs` timed runs per arm overall: spread over the minimum rounds.
      minRunsPerBlock: Math.max(3, Math.ceil(config.measurement.runs / 6)),
      ...(reporter.signal ? { signal: reporter.signal } : {}),
      ...(reporter.logger ? { logger: reporter.logger } : {}),
    });
  } catch (error) {
    return { ok: false, error: errorOf(error), metrics: {}, intervals: {} };
  }
  const mine = result.arms[result.arms.length - 1] as ArmResult;
  const reference = result.arms[0] as ArmResult;
  const metrics: MetricValues = {
    loadMs: mine.loadMs,
    firstInferenceMs: mine.firstInferenceMs,
    minLatencyMs: mine.latency.minMs,
    meanLatencyMs: mine.latency.meanMs,
    p50LatencyMs: mine.latency.p50Ms,
    p90LatencyMs: mine.latency.p90Ms,
    p95LatencyMs: mine.latency.p95Ms,
    p99LatencyMs: mine.latency.p99Ms,
    maxLatencyMs: mine.latency.maxMs,
    latencyCv: mine.latency.cv,
    peakRssBytes: mine.memory.peakRssBytes,
    ...(mine.rateUnit === "tokens" ? { promptTokensPerSec: mine.ratePerSec } : { throughputPerSec: mine.ratePerSec }),
    ...(mine.generationTokensPerSec === undefined ? {} : { tokensPerSec: mine.generationTokensPerSec }),
    ...(mine.memory.modelBytes === undefined ? {} : { modelMemoryBytes: mine.memory.modelBytes }),
  };
  // One basis for both sides of memoryReduction (an MLX candidate has only RSS; llama.cpp reports its allocation).
  const memory = candidate.isBaseline ? undefined : compareModelMemory(mine.memory, reference.memory);
  const intervals: MetricIntervals = {};
  // LLMs: generation tokens/s is the speed (what a user waits for); prompt tokens/s is reported beside it.
  const pick = (c: ComparisonResult) => (llm ? (c.generationRatio ?? c.rateRatio) : c.latencyRatio);
  const total = result.comparisons[0];
  if (candidate.isBaseline) {
    metrics.speedup = 1;
    metrics.memoryReduction = 0;
  } else if (total) {
    const r = pick(total);
    metrics.speedup = r.ratio;
    intervals.speedup = { low: r.low, high: r.high, level: r.level };
    if (memory) metrics.memoryReduction = 1 - memory.candidateBytes / memory.baselineBytes;
  }
  if (llm && !candidate.isBaseline && total?.generationRatio) {
    metrics.promptSpeedup = total.rateRatio.ratio;
    intervals.promptSpeedup = { low: total.rateRatio.low, high: total.rateRatio.high, level: total.rateRatio.level };
  }
  const passRatio = passComparison === undefined ? undefined : result.comparisons[passComparison];
  if (passRatio) {
    const r = pick(passRatio);
    metrics.passSpeedup = r.ratio;
    intervals.passSpeedup = { low: r.low, high: r.high, level: r.level };
  }
  const promptMetric = "prompt tokens/s ratio (candidate / input; forward passes over the measured tokens)";
  const metricName = llm ? (total?.generationRatio ? "generation tokens/s ratio (candidate / input; tokens decoded one at a time)" : promptMetric) : "p50 latency ratio (input / candidate)";
  const ratios = result.comparisons.flatMap((c) => {
    const r = pick(c);
    const main = { against: c.baseline, metric: metricName, ratio: r.ratio, low: r.low, high: r.high, level: r.level, pairs: r.pairs, ...(c.threshold === undefined ? {} : { threshold: c.threshold }), ...(c.decision ? { decision: c.decision } : {}) };
    if (!llm || !c.generationRatio) return [main];
    const p = c.rateRatio;
    return [main, { against: c.baseline, metric: promptMetric, ratio: p.ratio, low: p.low, high: p.high, level: p.level, pairs: p.pairs }];
  });
  const baselineBlocks = describeBaselineBlocks(reference, decideOn);
  const notes = [result.stoppedBecause];
  if (result.load.oversubscribed) notes.push(`machine oversubscribed when measuring (${result.load.busyCores?.toFixed(1) ?? "?"} of ${result.load.cores} cores busy): absolute latencies are slow and noisy; ratios are paired in time and remain comparable`);
  return {
    ok: true,
    metrics,
    intervals,
    latency: { count: mine.latency.count, minMs: mine.latency.minMs, meanMs: mine.latency.meanMs, p50Ms: mine.latency.p50Ms, p90Ms: mine.latency.p90Ms, p95Ms: mine.latency.p95Ms, p99Ms: mine.latency.p99Ms, maxMs: mine.latency.maxMs, sdMs: mine.latency.sdMs },
    measurement: {
      runs: mine.latency.count,
      warmupRuns: config.measurement.warmupRuns,
      ...(typeof mine.settingsApplied.threads === "number" ? { threads: mine.settingsApplied.threads } : candidate.runtime.threads === undefined ? {} : { threads: candidate.runtime.threads }),
      executionProvider: mine.executionProvider,
      runtimeVersion: `${mine.runtime} ${mine.runtimeVersion}`,
      isolation: `side by side: ${result.method}`,
      notes,
    },
    sideBySide: {
      method: result.method,
      rounds: result.rounds,
      stoppedBecause: result.stoppedBecause,
      load: {
        cores: result.load.cores,
        ...(result.load.busyCores === undefined ? {} : { busyCores: result.load.busyCores }),
        ...(result.load.loadAverage1m === undefined ? {} : { loadAverage1m: result.load.loadAverage1m }),
        freeCores: result.load.freeCores,
        oversubscribed: result.load.oversubscribed,
      },
      ratios,
      ...(baselineBlocks ? { baselineBlocks } : {}),
      memory: {
        peakRssBytes: mine.memory.peakRssBytes,
        ...(mine.memory.referencePeakRssBytes === undefined ? {} : { referencePeakRssBytes: mine.memory.referencePeakRssBytes }),
        ...(mine.memory.modelBytes === undefined ? {} : { modelMemoryBytes: mine.memory.modelBytes }),
        ...(mine.memory.modelBytesSource === undefined ? {} : { modelMemoryIncludes: mine.memory.modelBytesSource }),
        ...(mine.memory.runtimeReported ? { parts: mine.memory.runtimeReported.parts } : {}),
        ...(mine.memory.referenceWorkload === undefined ? {} : { referenceWorkload: mine.memory.referenceWorkload }),
        ...(memory ? { baselineModelMemoryBytes: memory.baselineBytes } : reference.memory.modelBytes === undefined ? {} : { baselineModelMemoryBytes: reference.memory.modelBytes }),
        ...(memory?.rebased ? { memoryReductionBasis: memory.basis, candidateMemoryOnBasisBytes: memory.candidateBytes } : {}),
      },
    },
  };
}
