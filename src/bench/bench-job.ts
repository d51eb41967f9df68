import type { ModelFormat } from "../core/artifact.js";
import type { ShapeOverrides } from "../core/shapes.js";
import type { InputValues } from "../datasets/synthetic-inputs.js";
import type { SuccessfulMeasurement } from "../reports/bench-record.js";
import type { RuntimeId } from "../runtimes/catalog.js";
import type { RuntimeSettings } from "../runtimes/runtime-settings.js";
import type { StoppingRule } from "./time-runs.js";

/** What the parent asks one child process to do; written as JSON to a file named on the child's command line. */
export type BenchJob = MeasureJob | IdleJob;

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
  stopping: StoppingRule;
  cvThreshold: number;
  sweepSizes: number[];
  sweepIterations: number;
}

/** The figures a child measures; the parent adds repetition, order and the comparison with the idle child. */
export type ChildMeasurement = Omit<SuccessfulMeasurement, "status" | "repetition" | "order" | "rssIncreaseBytes" | "childWallMs">;

export type ChildResult =
  | { ok: true; mode: "measure"; measurement: ChildMeasurement; latenciesNs: number[] }
  | { ok: true; mode: "idle"; peakRssBytes: number }
  | { ok: false; error: { code: string; message: string; hint?: string } };

/** Set to a substring of an artifact path to make the child abort after loading it (fault injection for tests). */
export const crashEnvVar = "EDGEFORGE_BENCH_CRASH_ON";
