import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { EdgeforgeError } from "../core/errors.js";
import { silentLogger, silentProgress, type Reporter } from "../core/logger.js";
import type { Session } from "../core/session.js";
import { openDataset } from "../datasets/open-dataset.js";
import { resolveInputShapes } from "../datasets/synthetic-inputs.js";
import type { Dtype } from "../core/dtypes.js";
import type { ShapeOverrides } from "../core/shapes.js";
import type { OnnxInspection } from "../formats/onnx/inspect-onnx.js";
import { readShapeHints } from "../formats/onnx/read-shape-hints.js";
import { detectModelFormat } from "../formats/detect-format.js";
import { listTargetProfiles } from "../hardware/load-target-profile.js";
import { recommendFrameworks } from "../hardware/recommend-frameworks.js";
import { assertGatesConsistent } from "../gates/check-gates.js";
import { isQualityMetric, type MetricValues } from "../pareto/metric-catalog.js";
import type { Pass, PassContext } from "../passes/pass.js";
import type { Report } from "../reports/report.js";
import { openRuntimeSession } from "../runtimes/catalog.js";
import { runCheckSettings } from "../runtimes/runtime-settings.js";
import { assessEnvironment, type Environment } from "./assess-environment.js";
import { buildReport } from "./build-report.js";
import type { MeasureQuality } from "./evaluate-candidate.js";
import { generatePlan } from "./generate-plan.js";
import { defaultLlmChunks, measureLlmQuality } from "./measure-llm-quality.js";
import { planOnnxQuality } from "./measure-onnx-quality.js";
import { estimateArtifactRunBytes, inspectModelFacts, type InspectedModel } from "./model-facts.js";
import { measureMlxQuality } from "./measure-mlx-quality.js";
import { sameDataWarning } from "./check-data-overlap.js";
import { openPassCache } from "./pass-cache.js";
import type { WorkflowPlan } from "./plan-types.js";
import { resolveGoals, type ResolvedGoals } from "./resolve-gates.js";
import { RunLog } from "./run-log.js";
import { runSearch } from "./run-search.js";
import { readToolVersions } from "./tool-versions.js";
import { defaultCacheDir, type WorkflowConfig } from "./workflow-config.js";
import { copyRecommendedArtifact, outputPaths, writeReports } from "./write-outputs.js";
import { checkLlmRunsInChild } from "./check-llm-runs.js";

export interface WorkflowOptions extends Reporter {
  /** The passes the plan may use (the pass catalog). */
  passes: readonly Pass[];
  /** Milliseconds, for the time budget and the run log (tests inject one). */
  clockMs?: () => number;
  now?: () => Date;
  /** Override the target's memory budget (bytes). */
  memoryBudgetBytes?: number;
}

export interface PreparedWorkflow {
  config: WorkflowConfig;
  model: InspectedModel;
  environment: Environment;
  goals: ResolvedGoals;
  plan: WorkflowPlan;
}

/** Everything up to the plan: inspect the model, assess target and machine, resolve gates, generate candidates. Runs nothing. */
export async function prepareWorkflow(input: WorkflowConfig, options: WorkflowOptions): Promise<PreparedWorkflow> {
  let config = input;
  const signal = options.signal;
  await resolveGoals(config, undefined, signal);
  await detectModelFormat(resolve(config.model));
  const environment = await assessEnvironment(config.target, { ...(options.memoryBudgetBytes === undefined ? {} : { memoryBudgetBytes: options.memoryBudgetBytes }), ...(signal ? { signal } : {}) });
  const inspect = (shapes: ShapeOverrides) =>
    inspectModelFacts(resolve(config.model), environment.target, {
      shapes,
      ...(config.measurement.contextSize ? { contextLength: config.measurement.contextSize } : {}),
      ...(signal ? { signal } : {}),
    });
  let model = await inspect(config.measurement.shapes);
  checkDataFitsModel(config, model.facts.format);
  let shapeReasons: string[] = [];
  if (model.summary.format === "onnx") {
    const onnx = model.summary as OnnxInspection;
    // Sizes the model states itself fill dynamic dimensions the user left open (--shape always wins).
    const hints = readShapeHints(onnx.metadata, onnx.inputs);
    const added = Object.fromEntries(Object.entries(hints.shapes).filter(([name]) => config.measurement.shapes[name] === undefined));
    if (Object.keys(added).length > 0) {
      config = { ...config, measurement: { ...config.measurement, shapes: { ...added, ...config.measurement.shapes } } };
      shapeReasons = [`input shapes from the model's own metadata: ${Object.entries(added).map(([name, dims]) => `${name}=${dims.join("x")}`).join(", ")} (${hints.sources.join("; ")})`];
      model = await inspect(config.measurement.shapes);
    }
    // Dynamic dimensions must be known before anything is measured: this throws INVALID_SHAPE with the --shape to add.
    const specs = onnx.inputs.flatMap((input) => (input.shape === null ? [] : [{ name: input.name, dtype: input.dtype as Dtype, shape: input.shape }]));
    resolveInputShapes(specs, config.measurement.shapes);
  }
  const goals = await resolveGoals(config, environment.target, signal);
  const frameworks = recommendFrameworks(environment.target, { modelKind: model.facts.modelKind, availableRuntimes: environment.availability });
  const plan = generatePlan({ facts: model.facts, target: environment.target, frameworks, passes: options.passes, config, local: environment.local });
  return { config, model, environment, goals, plan: { ...plan, reasons: [...shapeReasons, ...plan.reasons] } };
}

/** Evaluation data must suit the model kind: text for LLMs, datasets for ONNX. Checked before any work. */
function checkDataFitsModel(config: WorkflowConfig, format: string): void {
  const path = config.data.evaluation;
  if (!path) return;
  const llm = format === "gguf" || format === "safetensors";
  if (llm && /\.(jsonl?|npy|png|jpe?g)$/i.test(path)) {
    throw new EdgeforgeError("DATASET_INVALID", `${path} is not plain text: an LLM is evaluated on held-out text (perplexity, KL divergence)`, {
      hint: "pass a .txt file of held-out text with --eval, e.g. --eval heldout.txt",
      details: { path, format },
    });
  }
  if (!llm && /\.txt$/i.test(path)) {
    throw new EdgeforgeError("DATASET_INVALID", `${path} is a text file: ${format} models are evaluated on a dataset (folder, .json or .jsonl records)`, {
      hint: "pass a dataset folder or .json/.jsonl records with --eval (text files are for LLMs)",
      details: { path, format },
    });
  }
}

export interface WorkflowOutcome {
  report: Report;
  prepared: PreparedWorkflow;
}

function assertOutputSeparate(config: WorkflowConfig): void {
  const output = resolve(config.output);
  const model = resolve(config.model);
  if (output === model) {
    throw new EdgeforgeError("OUTPUT_EQUALS_INPUT", `the output folder ${output} is the model itself`, { hint: "pass -o with a new folder", details: { output } });
  }
}

/**
 * The optimize engine: plan → run passes through the cache → measure each candidate → frontier →
 * recommendation → gates → reports in the output folder. Returns the report; the caller maps
 * its verdict to an exit code.
 */
export async function runWorkflow(config: WorkflowConfig, options: WorkflowOptions): Promise<WorkflowOutcome> {
  assertOutputSeparate(config);
  const logger = options.logger ?? silentLogger;
  const clockMs = options.clockMs ?? (() => performance.now());
  const startedMs = clockMs();
  const createdAt = (options.now ?? (() => new Date()))().toISOString();
  const log = new RunLog(logger, clockMs);
  const outputDir = resolve(config.output);

  log.info(`assessing ${config.model} for target ${config.target}`);
  // Everything that can refuse the run (bad shapes, data that does not fit the model) runs before the output folder exists.
  const prepared = await prepareWorkflow(config, options);
  const created = await mkdir(outputDir, { recursive: true });
  try {
    return await searchAndReport(prepared.config, options, prepared, { log, outputDir, startedMs, createdAt, clockMs });
  } catch (error) {
    // Never leave an empty output folder behind a failed run.
    if (created !== undefined && (await readdir(outputDir).catch(() => ["?"])).length === 0) await rm(outputDir, { recursive: true, force: true });
    throw error;
  }
}

async function searchAndReport(
  config: WorkflowConfig,
  options: WorkflowOptions,
  prepared: PreparedWorkflow,
  run: { log: RunLog; outputDir: string; startedMs: number; createdAt: string; clockMs: () => number },
): Promise<WorkflowOutcome> {
  const { log, outputDir, startedMs, createdAt, clockMs } = run;
  const logger = options.logger ?? silentLogger;
  const progress = options.progress ?? silentProgress;
  const signal = options.signal;
  const { model, environment, goals, plan } = prepared;
  for (const reason of plan.reasons) log.info(`plan: ${reason}`);
  for (const skip of plan.skipped) log.info(`plan: left out ${skip.label}: ${skip.reason}`);

  const cacheDir = config.cache.enabled ? resolve(config.cache.dir ?? defaultCacheDir()) : join(outputDir, "artifacts");
  const cache = openPassCache({ dir: cacheDir, enabled: config.cache.enabled });
  log.info(config.cache.enabled ? `cache: ${cacheDir}` : `cache: disabled (--no-cache); artifacts under ${cacheDir}`);
  const workDir = await mkdtemp(join(tmpdir(), "edgeforge-work-"));
  try {
    const calibrationData = config.data.calibration && model.facts.format === "onnx" ? await openDataset(config.data.calibration, signal ? { signal } : {}) : undefined;
    const evaluationData = config.data.evaluation && model.facts.format === "onnx" ? await openDataset(config.data.evaluation, signal ? { signal } : {}) : undefined;
    const overlap = await sameDataWarning(calibrationData, evaluationData, signal);
    if (overlap) log.warn(overlap);
    const passByIdMap = new Map(options.passes.map((p) => [p.id, p]));
    const contextFor = (pass: Pass): PassContext => ({
      workDir: join(workDir, pass.id),
      openSession: (path: string): Promise<Session> => openRuntimeSession("ort", path, "onnx", {}),
      openCheckSession: (path: string): Promise<Session> => openRuntimeSession("ort", path, "onnx", runCheckSettings),
      checkLlmRuns: checkLlmRunsInChild,
      ...(calibrationData ? { calibrationData } : {}),
      ...(evaluationData ? { evaluationData } : {}),
      logger,
      progress,
      ...(signal ? { signal } : {}),
    });
    const quality = await qualityFor(config, model, { logger, ...(signal ? { signal } : {}) }, log, goals.gates);
    const search = await runSearch(
      plan,
      {
        input: model.artifact,
        config,
        produce: {
          lookupPass: (id) => {
            const pass = passByIdMap.get(id);
            if (!pass) throw new EdgeforgeError("INVALID_CONFIG", `unknown pass ${id}`, { hint: `passes: ${[...passByIdMap.keys()].join(", ")}` });
            return pass;
          },
          cache,
          toolVersions: await readToolVersions(),
          contextFor,
          log,
          produced: new Map(),
        },
        measureQuality: quality.measureQuality,
        estimateRunBytes: (artifact) =>
          estimateArtifactRunBytes(artifact, environment.target, {
            shapes: config.measurement.shapes,
            ...(config.measurement.contextSize ? { contextLength: config.measurement.contextSize } : {}),
            ...(signal ? { signal } : {}),
          }),
        gates: goals.gates,
        objectives: goals.objectives,
        reporter: { logger, ...(signal ? { signal } : {}) },
      },
      {
        log,
        clockMs,
        afterBaseline: (baseline) => assertGatesConsistent(goals.gates, baseline.report.metrics as MetricValues, "the gates, given the baseline's measurements"),
      },
    );

    const paths = outputPaths(outputDir);
    const draft = buildReport({
      config,
      model,
      environment,
      plan,
      goals,
      search,
      cache: { enabled: config.cache.enabled, dir: cacheDir },
      log,
      outputs: paths,
      ...(quality.evaluation ? { evaluation: quality.evaluation() } : {}),
      createdAt,
      durationMs: clockMs() - startedMs,
      toolVersion: (await readToolVersions()).edgeforge ?? "unknown",
      targets: await listTargetProfiles(),
    });
    const recommended = search.evaluated.find((e) => e.planned.id === draft.recommendation.candidateId);
    let recommendedArtifact: string | undefined;
    if (recommended?.artifact) {
      recommendedArtifact = await copyRecommendedArtifact(recommended.artifact.files, recommended.artifact.path, outputDir, signal);
      log.info(`recommended: ${recommended.planned.id} → ${recommendedArtifact}`);
    } else {
      log.warn(`no candidate passed the gates${draft.gates.closest ? `; closest: ${draft.gates.closest.candidateId}` : ""}`);
    }
    const report: Report = {
      ...draft,
      durationMs: clockMs() - startedMs,
      log: log.entries.map((e) => ({ ...e })),
      outputs: { ...paths, ...(recommendedArtifact ? { recommendedArtifact } : {}) },
    };
    await writeReports(report, log.render(), signal);
    return { report, prepared };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

interface QualitySetup {
  measureQuality: MeasureQuality;
  /** Read after the search, when the sample count is known. */
  evaluation?: () => NonNullable<Report["evaluation"]>;
}

async function qualityFor(config: WorkflowConfig, model: InspectedModel, reporter: Reporter, log: RunLog, gates: ResolvedGoals["gates"]): Promise<QualitySetup> {
  if (model.facts.format === "onnx") {
    const quality = await planOnnxQuality(config, model.artifact, reporter);
    log.info(`accuracy: ${quality.method} (${quality.source})`);
    const onData = config.data.evaluation !== undefined;
    return {
      measureQuality: quality.measure,
      evaluation: () => ({
        source: quality.source,
        samples: quality.samplesSeen(),
        method: quality.method,
        task: quality.task,
        ...(onData && config.data.labels ? { labels: config.data.labels } : {}),
        ...(onData && config.data.limit ? { limit: config.data.limit } : {}),
      }),
    };
  }
  const textPath = config.data.evaluation;
  if (!textPath) {
    // Said up front: a quality gate on a metric nobody measures fails every candidate (exit 3).
    const unmeasurable = gates.filter((g) => isQualityMetric(g.metric)).map((g) => g.name);
    log.warn(`no evaluation text (--eval FILE.txt): perplexity, KL divergence and accuracy retention are not measured${unmeasurable.length > 0 ? `, so no candidate can pass the gate${unmeasurable.length > 1 ? "s" : ""} ${unmeasurable.join(", ")} (give --eval, or set gates without ${unmeasurable.length > 1 ? "them" : "it"})` : ""}`);
    return { measureQuality: async () => undefined };
  }
  // Candidates that differ only in settings the evaluation does not use (llama.cpp's batch) share one evaluation.
  const evaluated = new Map<string, ReturnType<typeof measureLlmQuality>>();
  // The reference of KL divergence and top-1 agreement: the GGUF the baseline ran, which for a Hugging Face
  // folder is its conversion (the baseline is evaluated first).
  let baseGguf = model.artifact.format === "gguf" ? model.artifact.path : undefined;
  const measureQuality: MeasureQuality = async (candidate, artifact) => {
    if (candidate.isBaseline && artifact.format === "gguf") baseGguf = artifact.path;
    const settings = {
      ...(candidate.runtime.threads === undefined ? {} : { threads: candidate.runtime.threads }),
      ...(config.measurement.contextSize ? { contextSize: config.measurement.contextSize } : {}),
      ...(config.data.limit ? { maxChunks: config.data.limit } : {}),
    };
    if (artifact.format !== "mlx") {
      const basePath = candidate.isBaseline ? undefined : baseGguf;
      const key = JSON.stringify([artifact.path, basePath, settings]);
      const running = evaluated.get(key) ?? measureLlmQuality(artifact.path, basePath, textPath, settings, reporter);
      // A failed evaluation is not kept: the next candidate tries again.
      evaluated.set(key, running);
      running.catch(() => evaluated.delete(key));
      return running;
    }
    if (!baseGguf) {
      log.warn(`${candidate.id}: MLX quality is measured against the GGUF the baseline ran, and this run has none, so only speed and memory are measured`);
      return undefined;
    }
    return measureMlxQuality(artifact.path, baseGguf, textPath, settings, reporter);
  };
  return {
    measureQuality,
    evaluation: () => ({ source: textPath, samples: config.data.limit ?? defaultLlmChunks, method: `llama.cpp perplexity (chunks of held-out text), KL divergence and top-1 agreement against the input model${model.artifact.format === "gguf" ? "" : " converted to GGUF (the baseline)"}, tokens/s`, task: "llm" as const }),
  };
}
