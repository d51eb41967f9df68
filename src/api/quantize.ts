import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Artifact } from "../core/artifact.js";
import { EdgeforgeError } from "../core/errors.js";
import type { Reporter } from "../core/logger.js";
import { checkWritableFolder, sweepStaleTempFiles } from "../core/output-folder.js";
import type { OpenSession } from "../core/session.js";
import type { Dataset } from "../datasets/dataset.js";
import type { DatasetSpecInput } from "../datasets/dataset-spec.js";
import { openDataset } from "../datasets/open-dataset.js";
import { detectModelFormat } from "../formats/detect-format.js";
import { getPass, type PassId } from "../passes/catalog.js";
import { describeOnnxArtifact, startInputHash } from "../passes/onnx/onnx-pass-io.js";
import { checkPassOptions } from "../passes/check-pass-options.js";
import type { PassContext, PassLog } from "../passes/pass.js";
import { openRuntimeSession } from "../runtimes/catalog.js";
import { runCheckSettings } from "../runtimes/runtime-settings.js";

/** `--method` values for ONNX models and the pass each runs. */
export const onnxQuantizeMethods = Object.freeze({
  fp16: "onnx.convert.fp16",
  "int8-dynamic": "onnx.quantize.int8-dynamic",
  "int8-static": "onnx.quantize.int8-static",
  int4: "onnx.quantize.int4",
  auto: "onnx.quantize.auto",
} as const satisfies Record<string, PassId>);

export type OnnxQuantizeMethod = keyof typeof onnxQuantizeMethods;

export function isOnnxQuantizeMethod(method: string): method is OnnxQuantizeMethod {
  return Object.hasOwn(onnxQuantizeMethods, method);
}

export interface QuantizeOptions extends Reporter {
  method: OnnxQuantizeMethod;
  /** Output path; default `<input stem>_fp16|_int8|_q4.onnx` beside the input. */
  output?: string;
  /** Calibration data: a folder of images (needs a preprocessing spec) or .npy tensors, or a .json/.jsonl file. */
  calibration?: string;
  /** Evaluation data for `auto` (default: the calibration data). */
  evaluation?: string;
  /** Dataset spec fields for the data folders (e.g. `{ preprocess: {...}, limit: 32 }`). */
  datasetSpec?: DatasetSpecInput;
  /** A JSON file holding a dataset spec or just a preprocessing spec. */
  datasetSpecPath?: string;
  /** The method's own options (see each pass's schema); validated before any work. */
  passOptions?: Record<string, unknown>;
  /** onnxruntime intra-op threads for calibration and evaluation runs. */
  threads?: number;
  /** Overrides the runtime (tests); default: onnxruntime-node on CPU. */
  openSession?: OpenSession;
}

/** The summary `edgeforge quantize --json` prints (schemaVersion bumps on breaking changes). */
export interface QuantizeReport {
  schemaVersion: 1;
  method: OnnxQuantizeMethod;
  passId: PassId;
  input: { path: string; sizeBytes: number };
  output: Artifact;
  options: Record<string, unknown>;
  nodesQuantized: number;
  nodesSkipped: number;
  /** Float bytes of the weights that were replaced, and of what replaced them. */
  weightBytesBefore?: number;
  weightBytesAfter?: number;
  durationMs: number;
  log: PassLog;
}

function invalidOption(message: string, details: Record<string, unknown>): EdgeforgeError {
  return new EdgeforgeError("INVALID_OPTION", message, { hint: "see `edgeforge quantize --help` for each method's options", details });
}

async function openData(path: string | undefined, options: QuantizeOptions): Promise<Dataset | undefined> {
  if (path === undefined) return undefined;
  return openDataset(path, {
    ...(options.datasetSpec ? { spec: options.datasetSpec } : {}),
    ...(options.datasetSpecPath ? { specPath: options.datasetSpecPath } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/**
 * Quantize (or convert to float16) an ONNX model with one of edgeforge's passes. Calibration and
 * evaluation run on onnxruntime-node. The output is written atomically; the input is never touched.
 */
export async function quantize(modelPath: string, options: QuantizeOptions): Promise<QuantizeReport> {
  if (!isOnnxQuantizeMethod(options.method)) {
    throw invalidOption(`unknown method "${String(options.method)}" for an ONNX model`, { method: options.method, methods: Object.keys(onnxQuantizeMethods) });
  }
  const { format, sizeBytes } = await detectModelFormat(modelPath);
  if (format !== "onnx") {
    throw new EdgeforgeError("UNKNOWN_FORMAT", `${modelPath} is ${format}; quantize() takes ONNX models`, {
      hint: format === "gguf" ? "use quantizeGguf() (or `edgeforge quantize MODEL.gguf --method Q4_K_M`)" : "convert the model to ONNX first",
      details: { path: modelPath, format },
    });
  }
  // The input's hash (for the lineage) starts now, beside the checks below; stopped if they fail.
  const hashing = new AbortController();
  const inputSha256 = startInputHash(resolve(modelPath), sizeBytes ?? 0, options.signal ? AbortSignal.any([options.signal, hashing.signal]) : hashing.signal);
  try {
    return await quantizeOnnx(modelPath, options, inputSha256);
  } finally {
    hashing.abort();
  }
}

async function quantizeOnnx(modelPath: string, options: QuantizeOptions, inputSha256: PassContext["inputSha256"]): Promise<QuantizeReport> {
  const passId = onnxQuantizeMethods[options.method];
  const pass = getPass(passId);
  const passOptions = checkPassOptions(pass.optionsSchema, options.passOptions ?? {}, options.method, "see `edgeforge quantize --help` for each method's options");
  const input = await describeOnnxArtifact(modelPath);
  const output = options.output ?? join(dirname(input.path), pass.defaultOutputName(input.path, passOptions));
  await checkWritableFolder(dirname(resolve(output)));
  await sweepStaleTempFiles(dirname(resolve(output)));
  const calibrationData = await openData(options.calibration, options);
  const evaluationData = await openData(options.evaluation, options);
  const openSession: OpenSession =
    options.openSession ?? ((path) => openRuntimeSession("ort", path, "onnx", options.threads === undefined ? {} : { threads: options.threads }));
  const workDir = await mkdtemp(join(tmpdir(), "edgeforge-quantize-"));
  try {
    const result = await pass.run(input, output, passOptions, {
      workDir,
      openSession,
      ...(inputSha256 ? { inputSha256 } : {}),
      ...(options.openSession ? {} : { openCheckSession: (path: string) => openRuntimeSession("ort", path, "onnx", runCheckSettings) }),
      ...(calibrationData ? { calibrationData } : {}),
      ...(evaluationData ? { evaluationData } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.progress ? { progress: options.progress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const { counts } = result.log;
    return {
      schemaVersion: 1,
      method: options.method,
      passId,
      input: { path: input.path, sizeBytes: input.sizeBytes },
      output: result.artifact,
      options: passOptions,
      nodesQuantized: counts.nodesQuantized ?? counts.tensorsConverted ?? 0,
      nodesSkipped: counts.nodesSkipped ?? counts.nodesKeptFloat32 ?? 0,
      ...(counts.weightBytesBefore === undefined ? {} : { weightBytesBefore: counts.weightBytesBefore }),
      ...(counts.weightBytesAfter === undefined ? {} : { weightBytesAfter: counts.weightBytesAfter }),
      durationMs: result.durationMs,
      log: result.log,
    };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
