import { basename } from "node:path";
import { EdgeforgeError } from "../core/errors.js";
import { silentLogger, silentProgress, type Reporter } from "../core/logger.js";
import type { ShapeOverrides } from "../core/shapes.js";
import type { DatasetSpecInput } from "../datasets/dataset-spec.js";
import type { InputValues } from "../datasets/synthetic-inputs.js";
import { benchSchemaVersion, type BenchConfig, type BenchRecord, type BenchResult, type Measurement } from "../reports/bench-record.js";
import { createRandom, shuffled } from "../stats/random.js";
import { runtimeCatalog, type RuntimeId } from "../runtimes/catalog.js";
import { checkRuntimeSettings, type RuntimeSettings } from "../runtimes/runtime-settings.js";
import type { MeasureJob } from "./bench-job.js";
import { compareSideBySide } from "./compare-side-by-side.js";
import { checkCpusToPin, formatCpuList } from "./cpu-affinity.js";
import { materializeInputs, type MaterializedInputs } from "./materialize-inputs.js";
import { planArtifacts, type PlannedArtifact } from "./plan-artifacts.js";
import { readProvenance } from "./read-provenance.js";
import { checkBenchChildBuilt, spawnBenchChild, type ChildOutcome } from "./spawn-bench-child.js";
import { summarizeMeasurements, summaryMetrics } from "./summarize-result.js";

export interface BenchOptions extends Reporter {
  models: string[];
  /** Default: the catalog's runtime for each model's format (onnx → ort, gguf → llama-cpp). */
  runtime?: RuntimeId;
  settings?: RuntimeSettings;
  shapes?: ShapeOverrides;
  values?: InputValues;
  /** A dataset (folder or JSON file) to take real inputs from instead of generated ones. */
  inputs?: string;
  datasetSpec?: DatasetSpecInput;
  datasetSpecPath?: string;
  /** Samples taken from the dataset; default 32. */
  maxDatasetSamples?: number;
  /** Fixed timed runs per repetition; otherwise the min-time rule (default 1000 ms). */
  iterations?: number;
  minTimeMs?: number;
  maxTimeMs?: number;
  /** Untimed runs after the (separately timed) first inference; default 5. */
  warmupIterations?: number;
  /** After the warm-up runs, untimed runs for this long before timing; default 0 (optimize's arms settle 1000). */
  settleMs?: number;
  /** Each repetition measures every artifact once, in a fresh seeded random order; default 1. */
  repetitions?: number;
  seed?: number;
  /** Above this CV (and drift, and p50 spread across repetitions) results are flagged; default 0.1. */
  cvThreshold?: number;
  /** Sizes of the leading input dimension for the throughput sweep; default [1, 2, 4, 8]; [] skips it. */
  sweepSizes?: number[];
  sweepIterations?: number;
  /** Distinct generated input sets cycled through the timed runs; default 4. */
  inputSets?: number;
  /** Pin every measuring child to these CPUs from its start (Linux, taskset); default unpinned. */
  cpus?: readonly number[];
  /** Per child; default 600000 (10 min). */
  timeoutMs?: number;
  /** Environment for the children (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /**
   * Then measure every model against the first side by side (alternating blocks in one time window,
   * generated inputs at `shapes`): the speed-ups with their intervals go into `sideBySide`.
   */
  compare?: boolean;
}

/**
 * The shapes one artifact gets: unprefixed overrides apply to every model; `NAME:input=DxD`, where
 * NAME is a model's label or file name, applies to that model only.
 */
export function shapesForArtifact(shapes: ShapeOverrides, artifact: { label: string; path: string }, allNames: readonly string[]): ShapeOverrides {
  const own = new Set([artifact.label, basename(artifact.path)]);
  const result: ShapeOverrides = {};
  for (const [key, dims] of Object.entries(shapes)) {
    const prefix = allNames.find((name) => key.startsWith(`${name}:`));
    if (prefix === undefined) result[key] = dims;
    else if (own.has(prefix)) result[key.slice(prefix.length + 1)] = dims;
  }
  return result;
}

function positive(name: string, value: number | undefined, integer = true): void {
  if (value === undefined) return;
  if (!(value > 0) || (integer && !Number.isInteger(value))) {
    throw new EdgeforgeError("INVALID_OPTION", `${name} must be a positive ${integer ? "integer" : "number"}, not ${value}`, { details: { [name]: value } });
  }
}

function validate(options: BenchOptions): void {
  if (options.models.length === 0) throw new EdgeforgeError("INVALID_OPTION", "no models to benchmark", { hint: "pass one or more model paths" });
  if (options.iterations !== undefined && options.minTimeMs !== undefined) {
    throw new EdgeforgeError("INVALID_OPTION", "give either iterations or a minimum time, not both", { hint: "use --iterations N or --min-time-ms N" });
  }
  for (const key of ["iterations", "repetitions", "maxDatasetSamples", "sweepIterations", "inputSets", "timeoutMs"] as const) positive(key, options[key]);
  for (const key of ["minTimeMs", "maxTimeMs", "cvThreshold"] as const) positive(key, options[key], false);
  if (options.warmupIterations !== undefined && (!Number.isInteger(options.warmupIterations) || options.warmupIterations < 0)) {
    throw new EdgeforgeError("INVALID_OPTION", `warm-up must be a non-negative integer, not ${options.warmupIterations}`);
  }
  if (options.settleMs !== undefined && !(options.settleMs >= 0)) {
    throw new EdgeforgeError("INVALID_OPTION", `settle time must be a non-negative number of milliseconds, not ${options.settleMs}`, { details: { settleMs: options.settleMs } });
  }
  for (const size of options.sweepSizes ?? []) positive("sweep size", size);
  if (options.compare && options.models.length < 2) {
    throw new EdgeforgeError("INVALID_OPTION", "--compare needs at least two models", { hint: "give the baseline first, then the models to compare with it" });
  }
  if (options.compare && options.inputs !== undefined) {
    throw new EdgeforgeError("INVALID_OPTION", "--compare measures on generated inputs, not on --inputs", {
      hint: "drop --inputs for the comparison (fix shapes with --shape), or run bench with --inputs without --compare",
    });
  }
  checkRuntimeSettings(options.settings);
}

function failureFrom(outcome: ChildOutcome, timeoutMs: number): Extract<Measurement, { status: "failed" }>["error"] {
  const base = { exitCode: outcome.exitCode, signal: outcome.signal, stderrTail: outcome.stderrTail };
  if (outcome.result && !outcome.result.ok) return { ...outcome.result.error, ...base };
  if (outcome.timedOut) {
    return { code: "MEASUREMENT_FAILED", message: `the measuring process ran past ${timeoutMs} ms and was killed`, hint: "raise --timeout-ms or lower --iterations", ...base };
  }
  const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with code ${outcome.exitCode}`;
  return { code: "MEASUREMENT_FAILED", message: `the measuring process ${how} without a result`, hint: "see the stderr tail; the other artifacts were still measured", ...base };
}

/**
 * Benchmark each model in its own child process: an idle child first (the memory baseline), then
 * `repetitions` rounds in seeded random order. One record comes back; failed artifacts are in it
 * with their errors, never dropped.
 */
export async function runBenchmark(options: BenchOptions): Promise<BenchRecord> {
  validate(options);
  const logger = options.logger ?? silentLogger;
  const progress = options.progress ?? silentProgress;
  const signal = options.signal;
  const seed = options.seed ?? 1;
  const repetitions = options.repetitions ?? 1;
  const timeoutMs = options.timeoutMs ?? 600_000;
  const cvThreshold = options.cvThreshold ?? 0.1;
  const stopping = options.iterations !== undefined ? { iterations: options.iterations } : { minTimeMs: options.minTimeMs ?? 1000, ...(options.maxTimeMs ? { maxTimeMs: options.maxTimeMs } : {}) };
  const sweepSizes = options.sweepSizes ?? [1, 2, 4, 8];

  if (options.cpus) await checkCpusToPin(options.cpus, signal);
  await checkBenchChildBuilt();
  const planned = await planArtifacts(options.models, options.runtime, signal);
  const runtimeVersions: Record<string, string> = {};
  for (const runtime of new Set(planned.flatMap((p) => (p.ok ? [p.runtime] : [])))) {
    const availability = await runtimeCatalog[runtime].detect();
    if (!availability.available) {
      throw new EdgeforgeError("RUNTIME_UNAVAILABLE", `runtime ${runtime} is not available: ${availability.reason}`, {
        hint: runtime === "openvino" ? "npm install openvino-node, or use --runtime ort" : "reinstall dependencies (npm ci)",
        details: { runtime, reason: availability.reason },
      });
    }
    runtimeVersions[runtime] = availability.version ?? "unknown";
  }

  let dataset: MaterializedInputs | undefined;
  if (options.inputs !== undefined) {
    dataset = await materializeInputs(options.inputs, {
      limit: options.maxDatasetSamples ?? 32,
      ...(options.datasetSpec ? { spec: options.datasetSpec } : {}),
      ...(options.datasetSpecPath ? { specPath: options.datasetSpecPath } : {}),
      ...(signal ? { signal } : {}),
    });
    logger.info(`inputs: ${dataset.count} samples from ${options.inputs}`);
  }
  try {
    const provenance = await readProvenance(runtimeVersions);
    const idle = await spawnBenchChild({ mode: "idle" }, { timeoutMs: 60_000, ...(signal ? { signal } : {}), ...(options.env ? { env: options.env } : {}) });
    const idlePeakRssBytes = idle.result?.ok && idle.result.mode === "idle" ? idle.result.peakRssBytes : undefined;
    const idleChild: BenchRecord["idleChild"] = idlePeakRssBytes === undefined ? { error: failureFrom(idle, 60_000).message } : { peakRssBytes: idlePeakRssBytes };

    const measurements = planned.map((): Measurement[] => []);
    const pooled = planned.map((): number[] => []);
    const order: string[][] = [];
    const random = createRandom(seed);
    const runnable = planned.map((p, index) => ({ p, index })).filter((entry) => entry.p.ok);
    const allNames = [...new Set(planned.flatMap((p) => [p.artifact.label, basename(p.artifact.path)]))].sort((a, b) => b.length - a.length);
    progress.start("bench", runnable.length * repetitions);
    let done = 0;
    for (let repetition = 0; repetition < repetitions; repetition += 1) {
      const round = shuffled(runnable, random);
      order.push(round.map((entry) => entry.p.artifact.label));
      for (const [position, { p, index }] of round.entries()) {
        if (!p.ok) continue;
        const job: Omit<MeasureJob, "resultPath"> = {
          mode: "measure",
          artifactPath: p.artifact.path,
          format: p.format,
          runtime: p.runtime,
          settings: options.settings ?? {},
          inputs: dataset ? { kind: "dataset", folder: dataset.folder, source: options.inputs as string } : { kind: "generated" },
          seed,
          shapes: shapesForArtifact(options.shapes ?? {}, p.artifact, allNames),
          unknownShapes: options.models.length > 1 ? "ignore" : "error",
          ...(options.values ? { values: options.values } : {}),
          inputSets: options.inputSets ?? 4,
          warmupIterations: options.warmupIterations ?? 5,
          settleMs: options.settleMs ?? 0,
          stopping,
          cvThreshold,
          sweepSizes,
          sweepIterations: options.sweepIterations ?? 10,
        };
        const outcome = await spawnBenchChild(job, { timeoutMs, ...(signal ? { signal } : {}), ...(options.env ? { env: options.env } : {}), ...(options.cpus ? { cpus: options.cpus } : {}) });
        const result = outcome.result;
        if (result?.ok && result.mode === "measure") {
          const increase = idlePeakRssBytes === undefined ? {} : { rssIncreaseBytes: result.measurement.peakRssBytes - idlePeakRssBytes };
          measurements[index]?.push({ status: "ok", repetition, order: position, ...result.measurement, ...increase, childWallMs: outcome.wallMs });
          pooled[index]?.push(...result.latenciesNs);
          logger.info(`${p.artifact.label} (repetition ${repetition + 1}/${repetitions}): p50 ${result.measurement.latency.p50Ms.toFixed(3)} ms`);
        } else {
          const error = failureFrom(outcome, timeoutMs);
          measurements[index]?.push({ status: "failed", repetition, order: position, error, childWallMs: outcome.wallMs });
          logger.warn(`${p.artifact.label} (repetition ${repetition + 1}/${repetitions}) failed: error[${error.code}] ${error.message}`);
        }
        done += 1;
        progress.update(done, p.artifact.label);
      }
    }
    progress.finish();
    const results = planned.map((p, index) => buildResult(p, measurements[index] ?? [], pooled[index] ?? [], cvThreshold, seed));
    const config: BenchConfig = {
      ...(options.runtime ? { runtime: options.runtime } : {}),
      ...(options.settings?.threads === undefined ? {} : { threads: options.settings.threads }),
      ...stopping,
      warmupIterations: options.warmupIterations ?? 5,
      ...(options.settleMs ? { settleMs: options.settleMs } : {}),
      repetitions,
      seed,
      ...(options.cpus ? { cpus: formatCpuList(options.cpus) } : {}),
      cvThreshold,
      sweepSizes,
      inputSets: options.inputSets ?? 4,
      shapes: options.shapes ?? {},
      ...(options.inputs ? { inputs: options.inputs } : {}),
      timeoutMs,
    };
    const sideBySide = options.compare
      ? await compareSideBySide(planned, {
          settings: options.settings ?? {},
          // One set of shapes for every arm: the overrides that apply to the baseline.
          shapes: planned[0] ? shapesForArtifact(options.shapes ?? {}, planned[0].artifact, allNames) : {},
          ...(options.values ? { values: options.values } : {}),
          seed,
          inputSets: options.inputSets ?? 4,
          timeoutMs,
          ...(options.env ? { env: options.env } : {}),
          ...(options.cpus ? { cpus: options.cpus } : {}),
          logger,
          ...(signal ? { signal } : {}),
        })
      : undefined;
    return { schemaVersion: benchSchemaVersion, kind: "edgeforge.bench", createdAt: new Date().toISOString(), provenance, config, idleChild, order, results, ...(sideBySide ? { sideBySide } : {}) };
  } finally {
    await dataset?.dispose();
  }
}

function buildResult(p: PlannedArtifact, measurements: Measurement[], pooled: number[], cvThreshold: number, seed: number): BenchResult {
  if (!p.ok) {
    const failed: Measurement = {
      status: "failed",
      repetition: 0,
      order: 0,
      error: { code: p.error.code, message: p.error.message, ...(p.error.hint ? { hint: p.error.hint } : {}), stderrTail: "" },
      childWallMs: 0,
    };
    return { artifact: p.artifact, runtime: p.runtime, status: "failed", measurements: [failed], metrics: {} };
  }
  const summary = summarizeMeasurements(measurements, pooled, cvThreshold, seed);
  const okCount = measurements.filter((m) => m.status === "ok").length;
  const status = okCount === measurements.length ? "ok" : okCount === 0 ? "failed" : "partial";
  return {
    artifact: p.artifact,
    runtime: p.runtime,
    status,
    measurements,
    ...(summary ? { summary } : {}),
    metrics: summaryMetrics(summary, p.artifact.sizeBytes),
  };
}

/** ok: everything measured; partial: some measurements failed; failed: none succeeded. */
export function benchOutcome(record: BenchRecord): "ok" | "partial" | "failed" {
  const all = record.results.flatMap((r) => r.measurements);
  const ok = all.filter((m) => m.status === "ok").length;
  return ok === all.length ? "ok" : ok === 0 ? "failed" : "partial";
}
