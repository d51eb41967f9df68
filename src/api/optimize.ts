import { resolve } from "node:path";
import { pathExists } from "../core/path-exists.js";
import type { Reporter } from "../core/logger.js";
import type { Pass } from "../passes/pass.js";
import { EdgeforgeError } from "../core/errors.js";
import { readdir, rm } from "node:fs/promises";
import { claimOutputFolder } from "../core/output-folder.js";
import { parseSizeBytes } from "../core/units.js";
import { parseGateFlag } from "../gates/gates-file.js";
import { readReport } from "../reports/read-report.js";
import type { Report } from "../reports/report.js";
import { diagnoseReport } from "../workflow/diagnose/diagnose-report.js";
import type { Diagnosis } from "../workflow/diagnose/diagnosis.js";
import { mergeConfigLayers, readConfigLayer, resolveWorkflowConfig, type ConfigLayer } from "../workflow/load-workflow-config.js";
import type { PipelineResult } from "../workflow/run-pipeline.js";
import { readPipelineConfig, runPipeline } from "../workflow/run-pipeline.js";
import { prepareWorkflow, runWorkflow, type PreparedWorkflow } from "../workflow/run-workflow.js";
import { checkWorkflowSettings } from "../workflow/check-workflow-settings.js";
import type { WorkflowConfig } from "../workflow/workflow-config.js";
import { getPass, passIds } from "../passes/catalog.js";

export type { Report } from "../reports/report.js";
export type { Diagnosis, Finding } from "../workflow/diagnose/diagnosis.js";
export type { PipelineResult } from "../workflow/run-pipeline.js";
export type { WorkflowConfig } from "../workflow/workflow-config.js";
export { reportSchema } from "../reports/report.js";

/** Flags of `edgeforge optimize`; each overrides the same field of `configPath`, which overrides the defaults. */
export interface OptimizeOptions extends Reporter {
  /** The input model; may come from `configPath` instead. */
  model?: string;
  output?: string;
  target?: string;
  /** A workflow config file (YAML/JSON) to start from. */
  configPath?: string;
  evaluation?: string;
  calibration?: string;
  /** CTC character list for OCR models. */
  labels?: string;
  evaluator?: "auto" | "fidelity" | "classification" | "ctc";
  evalLimit?: number;
  gatesFile?: string;
  /** `--gate` expressions: "accuracyRetention >= 95%" or "p50LatencyMs percent-min-improvement 50". */
  gates?: string[];
  noDefaultGates?: boolean;
  objectives?: string[];
  constraints?: string[];
  strategy?: "auto" | "exhaustive" | "random" | "tpe";
  maxCandidates?: number;
  maxTimeSec?: number;
  seed?: number;
  stopWhenGoalsMet?: boolean;
  passes?: string[];
  exclude?: string[];
  /** Fixed options per pass id (not searched). */
  passOptions?: Record<string, Record<string, unknown>>;
  threads?: number[];
  graphOptimizationLevels?: Array<"disabled" | "basic" | "extended" | "all">;
  /** Also try ONNX Runtime without its CPU arena and memory pattern; default true. */
  memorySettings?: boolean;
  ggufTypes?: string[];
  runs?: number;
  warmupRuns?: number;
  shapes?: Record<string, number[]>;
  contextSize?: number;
  cacheDir?: string;
  cache?: boolean;
  /** Override the target's memory budget, e.g. "512MB". */
  memoryBudget?: string;
}

function defined<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && !(typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0))) as Partial<T>;
}

/** The resolved workflow config: flags > config file > defaults. What `--dry-run` prints. */
export async function resolveOptimizeConfig(options: OptimizeOptions): Promise<WorkflowConfig> {
  const file: ConfigLayer = options.configPath ? await readConfigLayer(options.configPath, options.signal) : {};
  const gateList = options.gates?.map((text) => {
    const gate = parseGateFlag(text);
    return { name: gate.name, metric: gate.metric, goal: gate.goal, value: gate.value, priority: gate.priority, ...(gate.op ? { op: gate.op } : {}) };
  });
  const flags: ConfigLayer = defined({
    schemaVersion: 1,
    model: options.model === undefined ? undefined : resolve(options.model),
    output: options.output === undefined ? undefined : resolve(options.output),
    target: options.target,
    data: defined({ evaluation: options.evaluation && resolve(options.evaluation), calibration: options.calibration && resolve(options.calibration), labels: options.labels && resolve(options.labels), evaluator: options.evaluator, limit: options.evalLimit }),
    search: defined({ strategy: options.strategy, maxCandidates: options.maxCandidates, maxTimeSec: options.maxTimeSec, seed: options.seed, stopWhenGoalsMet: options.stopWhenGoalsMet }),
    candidates: defined({ passes: options.passes, exclude: options.exclude, passOptions: options.passOptions, threads: options.threads, graphOptimizationLevels: options.graphOptimizationLevels, memorySettings: options.memorySettings, ggufTypes: options.ggufTypes }),
    measurement: defined({ runs: options.runs, warmupRuns: options.warmupRuns, shapes: options.shapes, contextSize: options.contextSize }),
    objectives: options.objectives,
    constraints: options.constraints,
    gates: defined({ file: options.gatesFile && resolve(options.gatesFile), list: gateList, useDefaults: options.noDefaultGates ? false : undefined }),
    cache: defined({ enabled: options.cache, dir: options.cacheDir && resolve(options.cacheDir) }),
  });
  const merged = mergeConfigLayers(file, flags);
  if (merged.model === undefined) {
    throw new EdgeforgeError("INVALID_OPTION", "no model to optimize", { hint: "pass MODEL (or set model: in the config file)" });
  }
  if (merged.output === undefined) {
    throw new EdgeforgeError("INVALID_OPTION", "no output folder", { hint: "pass -o OUTDIR (or set output: in the config file)" });
  }
  const config = resolveWorkflowConfig(merged, options.configPath ? `${options.configPath} + flags` : "the command line");
  checkWorkflowSettings(config, listWorkflowPasses());
  return config;
}

/** Every pass in the catalog: the plan decides which apply. */
function listWorkflowPasses(): Pass[] {
  return passIds.map((id) => getPass(id));
}

function memoryBudgetOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const bytes = parseSizeBytes(text);
  if (bytes === undefined || bytes <= 0) throw new EdgeforgeError("INVALID_OPTION", `--memory-budget "${text}" is not a size`, { hint: "write e.g. 512MB or 2GiB" });
  return bytes;
}

export interface OptimizePlan {
  config: WorkflowConfig;
  prepared: PreparedWorkflow;
}

/** Assess and plan without running any pass or measurement (`--dry-run`). */
export async function planOptimize(options: OptimizeOptions): Promise<OptimizePlan> {
  const config = await resolveOptimizeConfig(options);
  const budget = memoryBudgetOf(options.memoryBudget);
  const prepared = await prepareWorkflow(config, { ...options, passes: listWorkflowPasses(), ...(budget === undefined ? {} : { memoryBudgetBytes: budget }) });
  return { config: prepared.config, prepared };
}

/** Optimize a model for a target: plan, search, measure, frontier, gates; writes the reports and the recommended artifact to the output folder. */
export async function optimize(options: OptimizeOptions): Promise<Report> {
  const config = await resolveOptimizeConfig(options);
  const budget = memoryBudgetOf(options.memoryBudget);
  const existed = await pathExists(config.output);
  const lock = await claimOutputFolder(config.output, "optimize");
  try {
    const { report } = await runWorkflow(config, { ...options, passes: listWorkflowPasses(), ...(budget === undefined ? {} : { memoryBudgetBytes: budget }) });
    return report;
  } catch (error) {
    await lock.release();
    // A run refused before any output (bad shapes, data that does not fit) leaves no empty folder behind.
    if (!existed && (await readdir(config.output).catch(() => ["?"])).length === 0) await rm(config.output, { recursive: true, force: true });
    throw error;
  } finally {
    await lock.release();
  }
}

/** Run a pipeline file (stages validation, optimization, testing, packaging). */
export async function runPipelineFile(path: string, options: Reporter & { memoryBudget?: string } = {}): Promise<PipelineResult> {
  const pipeline = await readPipelineConfig(path, options.signal);
  const budget = memoryBudgetOf(options.memoryBudget);
  const lock = await claimOutputFolder(resolve(pipeline.output), "run");
  try {
    return await runPipeline(pipeline, { ...options, passes: listWorkflowPasses(), ...(budget === undefined ? {} : { memoryBudgetBytes: budget }) });
  } finally {
    await lock.release();
  }
}

/** The troubleshooter over a report.json: findings with causes and actions, plus the per-framework table. */
export async function diagnose(reportPath: string, options: { signal?: AbortSignal } = {}): Promise<Diagnosis> {
  const report = await readReport(reportPath, options.signal);
  return diagnoseReport(report, reportPath);
}
