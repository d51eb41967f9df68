import type { z } from "zod";
import type { Artifact, ModelFormat } from "../core/artifact.js";
import type { Reporter } from "../core/logger.js";
import type { OpenSession } from "../core/session.js";
import type { Dataset } from "../datasets/dataset.js";

/** What a pass gets besides its input and options. Inference arrives as `openSession`, never as an import. */
export interface PassContext extends Reporter {
  /** Scratch space for intermediate files (e.g. a model with activations exposed for calibration). */
  workDir: string;
  openSession?: OpenSession;
  /**
   * The session the run check loads the output in (one load, one run): may skip what pays only over
   * many runs (weight prepacking, a thread pool). Default: `openSession`.
   */
  openCheckSession?: OpenSession;
  calibrationData?: Dataset;
  evaluationData?: Dataset;
  /**
   * The run check of passes that write a GGUF: load it in llama.cpp (in a child process, so a native
   * abort ends only that) and score a short English text. Absent: outputs are not run.
   */
  checkLlmRuns?: (modelPath: string, signal?: AbortSignal) => Promise<LlmRunCheck>;
  /**
   * The sha256 of the file at `path`, being computed since before the pass started (see
   * startInputHash): an ONNX pass whose input is that file uses it for the lineage instead of hashing.
   */
  inputSha256?: { path: string; digest: Promise<string> };
}

/** What the GGUF run check measured: the engine, and the perplexity of a short English text (a sanity figure). */
export interface LlmRunCheck {
  runtime: string;
  runtimeVersion: string;
  perplexity: number;
  scoredTokens: number;
}

/** Data a pass may read besides its input: `PassContext.calibrationData` or `evaluationData`. */
export type PassData = "calibration" | "evaluation";

/** Counts and notes a pass reports (nodes quantized/skipped, values clamped…), shown in summaries and reports. */
export interface PassLog {
  counts: Record<string, number>;
  notes: string[];
}

export interface PassResult {
  artifact: Artifact;
  log: PassLog;
  durationMs: number;
}

export interface Pass<Options extends Record<string, unknown> = Record<string, unknown>> {
  /** `format.verb.variant`, e.g. `onnx.quantize.int8-dynamic`. */
  id: string;
  /** Bump when output bytes change for the same input and options: it keys the cache. */
  version: string;
  description: string;
  inputFormat: ModelFormat;
  outputFormat: ModelFormat;
  /** Validates options, supplies defaults, and documents each option (`.describe()`). */
  optionsSchema: z.ZodType<Options>;
  /** Values worth trying per option when searching; options absent here keep their default. */
  searchSpace: Partial<Record<keyof Options & string, readonly unknown[]>>;
  /** The file name users expect for the output, e.g. `model_int8.onnx`. */
  defaultOutputName(inputPath: string, options: Options): string;
  /**
   * The data a run with these options reads (calibration, evaluation); their fingerprints join the cache
   * key, so new data is never answered with an output calibrated on the old. Absent: the pass reads none.
   */
  readsData?(options: Options): readonly PassData[];
  run(input: Artifact, outputPath: string, options: Options, context: PassContext): Promise<PassResult>;
}
