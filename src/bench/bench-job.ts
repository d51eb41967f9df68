import type { ModelFormat } from "../core/artifact.js";
import type { RuntimeMemoryReport } from "../core/session.js";
import type { ShapeOverrides } from "../core/shapes.js";
import type { InputValues } from "../datasets/synthetic-inputs.js";
import type { SuccessfulMeasurement } from "../reports/bench-record.js";
import type { RuntimeId } from "../runtimes/catalog.js";
import type { RuntimeSettings } from "../runtimes/runtime-settings.js";
import type { TimedGenerations } from "./time-generation.js";
import type { StoppingRule } from "./time-runs.js";

/** What the parent asks one child process to do; written as JSON to a file named on the child's command line. */
export type BenchJob = MeasureJob | IdleJob | BlocksJob | ReferenceJob;

export interface IdleJob {
  mode: "idle";
  resultPath: string;
}

export interface MeasureJob {
  mode: "measure";
  resultPath: string;
  artifactPath: string;
  format: ModelFormat;
  runtime: RuntimeId;
  settings: RuntimeSettings;
  inputs: { kind: "generated" } | { kind: "dataset"; folder: string; source: string };
  seed: number;
  shapes: ShapeOverrides;
  /** With several models one --shape set serves them all, so names a model lacks are ignored. */
  unknownShapes: "error" | "ignore";
  values?: InputValues;
  /** Distinct generated input sets cycled through the timed runs. */
  inputSets: number;
  warmupIterations: number;
  /** After the warm-up runs, untimed runs for this long before timing (none when 0). */
  settleMs: number;
  stopping: StoppingRule;
  cvThreshold: number;
  sweepSizes: number[];
  sweepIterations: number;
}

/**
 * A long-lived child for side-by-side measurement: it loads the model, warms up, then runs timed
 * blocks when the parent asks (IPC messages), so several such children can take turns.
 */
export interface BlocksJob extends Omit<MeasureJob, "mode" | "stopping" | "cvThreshold" | "sweepSizes" | "sweepIterations"> {
  mode: "blocks";
}

/** Load the runtime with these settings, run a trivial model, report peak RSS: the runtime's fixed memory. */
export interface ReferenceJob {
  mode: "reference";
  resultPath: string;
  runtime: RuntimeId;
  settings: RuntimeSettings;
}

/** Parent → blocks child. */
/**
 * A block: untimed runs for `warmupMs` (at least one) after the switch from another arm, then timed runs for
 * `minTimeMs` (at least `minRuns`). Token-by-token models then do the same with generations: untimed for
 * `warmupMs` (at least one), timed for `minTimeMs` (at least `minGenerations`).
 */
export type BlockRequest = { type: "block"; minTimeMs: number; minRuns: number; warmupMs: number; minGenerations: number } | { type: "finish" };

/** Blocks child → parent. */
export type BlockReply =
  | {
      type: "ready";
      loadMs: number;
      firstInferenceMs: number;
      rssAfterLoadBytes: number;
      runtime: string;
      runtimeVersion: string;
      executionProvider: string;
      settings: Record<string, unknown>;
      samplesPerRun: number;
      tokensPerRun?: number;
      runtimeMemory?: RuntimeMemoryReport;
      /** Untimed runs (then, token-by-token models, untimed generations) of the settle before the first block. */
      settleRuns: number;
      settleGenerations?: number;
    }
  | { type: "block"; latenciesNs: number[]; wallNs: number; generation?: TimedGenerations; /** The distinct CPU lists the child's threads were allowed during the block (Linux). */ affinity?: string[] }
  | { type: "done"; peakRssBytes: number; memorySource: "VmHWM" | "maxRSS" }
  | { type: "error"; error: { code: string; message: string; hint?: string } };

/** The figures a child measures; the parent adds repetition, order and the comparison with the idle child. */
export type ChildMeasurement = Omit<SuccessfulMeasurement, "status" | "repetition" | "order" | "rssIncreaseBytes" | "childWallMs">;

export type ChildResult =
  | { ok: true; mode: "measure"; measurement: ChildMeasurement; latenciesNs: number[] }
  | { ok: true; mode: "idle"; peakRssBytes: number }
  | { ok: true; mode: "reference"; peakRssBytes: number; memorySource: "VmHWM" | "maxRSS"; workload: string }
  | { ok: false; error: { code: string; message: string; hint?: string } };
