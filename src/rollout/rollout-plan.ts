import { readFile } from "node:fs/promises";
import { z } from "zod";
import { EdgeforgeError, fileError } from "../core/errors.js";
import { parseConfigText } from "../core/parse-config-text.js";
import { parseDurationMs } from "../core/units.js";

/** Shortest and longest analysis interval accepted. */
export const minIntervalMs = 100;
export const maxIntervalMs = 24 * 3_600_000;

/** Thresholds judged at the end of every interval, candidate against stable. */
export const rolloutAnalysisSchema = z
  .object({
    /** Fraction of the candidate's requests answered without a 5xx. */
    successRateMin: z.number().min(0).max(1),
    /** Absolute bound on the candidate's p99 request duration. */
    p99LatencyMaxMs: z.number().positive().optional(),
    /** Bound on the candidate's p99 relative to the stable version's p99 over the rollout. */
    p99LatencyMaxRatio: z.number().positive().optional(),
    /** Share of the candidate's monitored input features that may drift (the drift monitor's verdict; 0.5 is its own "drifted"). */
    driftMaxShare: z.number().gt(0).max(1).optional(),
    /** Fewer candidate requests in a window than this: inconclusive, the step is held (never promoted, never rolled back). */
    minRequests: z.number().int().min(1),
    /** Failed analyses tolerated; one more rolls back. */
    failureLimit: z.number().int().min(0),
  })
  .strict();

export type RolloutAnalysisPolicy = z.infer<typeof rolloutAnalysisSchema>;

/** A validated rollout plan, as the server receives it and the registry keeps it. Steps are percents of traffic for the candidate. */
export const rolloutPlanSchema = z
  .object({
    strategy: z.enum(["canary", "blue-green"]),
    steps: z.array(z.number().min(0).max(100)).min(1).max(100),
    intervalMs: z.number().int().min(minIntervalMs).max(maxIntervalMs),
    analysis: rolloutAnalysisSchema,
  })
  .strict();

export type RolloutPlan = z.infer<typeof rolloutPlanSchema>;

export const defaultAnalysis: RolloutAnalysisPolicy = { successRateMin: 0.99, p99LatencyMaxRatio: 2, driftMaxShare: 0.5, minRequests: 20, failureLimit: 0 };
export const defaultCanarySteps = [5, 25, 50, 100];
export const defaultIntervalMs = 30_000;

/** The analysis file (YAML or JSON): anything given on the command line wins over it. */
const analysisFileSchema = z
  .object({
    schemaVersion: z.literal(1).optional(),
    steps: z.array(z.number()).optional(),
    interval: z.string().optional(),
    failureLimit: z.number().int().min(0).optional(),
    minRequests: z.number().int().min(1).optional(),
    successRate: z.object({ min: z.number().min(0).max(1) }).strict().optional(),
    latencyP99: z.object({ maxMs: z.number().positive().optional(), maxRatioToStable: z.number().positive().optional() }).strict().optional(),
    /** `maxShare: null` turns the drift criterion off. */
    drift: z.object({ maxShare: z.number().gt(0).max(1).nullable() }).strict().optional(),
  })
  .strict();

export type RolloutAnalysisFile = z.infer<typeof analysisFileSchema>;

function invalidSteps(message: string, where: string): EdgeforgeError {
  return new EdgeforgeError("INVALID_OPTION", `${where}: ${message}`, {
    hint: "canary steps are increasing percents of traffic for the candidate, each in (0, 100], e.g. 5,25,50,100; blue-green uses --blue-green (0 % during analysis, then a 0/100 switch)",
  });
}

/** Check canary / blue-green steps: strictly increasing percents; blue-green is exactly [0]. */
export function checkSteps(steps: readonly number[], strategy: RolloutPlan["strategy"], where = "--steps"): number[] {
  if (strategy === "blue-green") {
    if (steps.length !== 1 || steps[0] !== 0) throw invalidSteps(`blue-green takes no steps of its own (got ${steps.join(",")})`, where);
    return [0];
  }
  if (steps.length === 0) throw invalidSteps("no steps given", where);
  for (const [index, step] of steps.entries()) {
    if (!Number.isFinite(step) || step <= 0 || step > 100) throw invalidSteps(`step ${index + 1} is ${step}; each must be in (0, 100]`, where);
    const previous = steps[index - 1];
    if (previous !== undefined && step <= previous) throw invalidSteps(`weights must increase: ${previous} then ${step}`, where);
  }
  return [...steps];
}

/** "5,25,50,100" → [5, 25, 50, 100]. */
export function parseStepsText(text: string): number[] {
  const parts = text.split(",").map((part) => part.trim());
  const steps = parts.map(Number);
  const bad = parts.findIndex((part, index) => part === "" || !Number.isFinite(steps[index]));
  if (bad >= 0) throw invalidSteps(`"${parts[bad] ?? ""}" is not a number`, "--steps");
  return steps;
}

/** "30s" → 30000 within [100 ms, 24 h]; a typed error with a hint otherwise. */
export function parseIntervalMs(text: string, where = "--interval"): number {
  const ms = parseDurationMs(text);
  if (ms === undefined) throw new EdgeforgeError("INVALID_OPTION", `${where} "${text}" is not a duration`, { hint: "give a number with a unit: 500ms, 2s, 30s, 5m, 1h" });
  if (ms < minIntervalMs || ms > maxIntervalMs) throw new EdgeforgeError("INVALID_OPTION", `${where} ${text} is outside 100ms … 24h`, { hint: "analysis windows shorter than 100 ms hold too few requests to judge" });
  return ms;
}

/** Read and validate an analysis file (YAML or JSON) before anything is started. */
export async function readRolloutAnalysisFile(path: string): Promise<RolloutAnalysisFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw fileError(error, path, "read");
  }
  const value = parseConfigText(text, path, "see docs/rollout.md for the analysis file format");
  const parsed = analysisFileSchema.safeParse(value ?? {});
  if (!parsed.success) {
    throw new EdgeforgeError("INVALID_CONFIG", `${path} is not a rollout analysis file: ${z.prettifyError(parsed.error)}`, {
      hint: "known keys: schemaVersion, steps, interval, failureLimit, minRequests, successRate.min, latencyP99.maxMs, latencyP99.maxRatioToStable, drift.maxShare (docs/rollout.md)",
      details: { path, issues: parsed.error.issues },
    });
  }
  const file = parsed.data;
  try {
    if (file.interval !== undefined) parseIntervalMs(file.interval, `${path}: interval`);
    if (file.steps !== undefined) checkSteps(file.steps, "canary", `${path}: steps`);
  } catch (error) {
    // The same checks as the flags', reported as the file's fault.
    if (!EdgeforgeError.isInstance(error)) throw error;
    throw new EdgeforgeError("INVALID_CONFIG", error.message, { ...(error.hint ? { hint: error.hint } : {}), details: { path } });
  }
  return file;
}

export interface RolloutPlanInput {
  /** From --steps. */
  steps?: number[];
  /** From --interval. */
  interval?: string;
  blueGreen?: boolean;
  file?: RolloutAnalysisFile;
}

/** Flags > analysis file > defaults. */
export function buildRolloutPlan(input: RolloutPlanInput): RolloutPlan {
  const strategy = input.blueGreen ? "blue-green" : "canary";
  if (input.blueGreen && input.steps !== undefined) throw invalidSteps("--steps and --blue-green exclude each other", "--steps");
  const steps = strategy === "blue-green" ? [0] : checkSteps(input.steps ?? input.file?.steps ?? defaultCanarySteps, strategy);
  const intervalText = input.interval ?? input.file?.interval;
  const intervalMs = intervalText === undefined ? defaultIntervalMs : parseIntervalMs(intervalText, input.interval === undefined ? "interval" : "--interval");
  const file = input.file ?? {};
  const latency = file.latencyP99;
  const analysis: RolloutAnalysisPolicy = {
    successRateMin: file.successRate?.min ?? defaultAnalysis.successRateMin,
    ...(latency === undefined
      ? { p99LatencyMaxRatio: defaultAnalysis.p99LatencyMaxRatio }
      : { ...(latency.maxMs === undefined ? {} : { p99LatencyMaxMs: latency.maxMs }), ...(latency.maxRatioToStable === undefined ? {} : { p99LatencyMaxRatio: latency.maxRatioToStable }) }),
    ...(file.drift?.maxShare === null ? {} : { driftMaxShare: file.drift?.maxShare ?? defaultAnalysis.driftMaxShare }),
    minRequests: file.minRequests ?? defaultAnalysis.minRequests,
    failureLimit: file.failureLimit ?? defaultAnalysis.failureLimit,
  };
  return parseRolloutPlan({ strategy, steps, intervalMs, analysis });
}

/** Validate a plan received over HTTP or read back from the registry. */
export function parseRolloutPlan(value: unknown): RolloutPlan {
  const parsed = rolloutPlanSchema.safeParse(value);
  if (!parsed.success) {
    throw new EdgeforgeError("INVALID_OPTION", `invalid rollout plan: ${z.prettifyError(parsed.error)}`, { hint: "build plans with `edgeforge rollout start` (docs/rollout.md)", details: { issues: parsed.error.issues } });
  }
  checkSteps(parsed.data.steps, parsed.data.strategy, "steps");
  return parsed.data;
}
