import { realpath, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { create } from "@bufbuild/protobuf";
import { StringStringEntryProtoSchema, type ModelProto } from "onnx-buf";
import type { Artifact } from "../../core/artifact.js";
import { edgeforgeVersion } from "../../core/edgeforge-version.js";
import { EdgeforgeError, fileError } from "../../core/errors.js";
import { hashFileSha256 } from "../../core/hashing.js";
import { hashFileSha256InWorker } from "../../core/hash-worker.js";
import { resolveExternalLocation } from "../../formats/onnx/external-data.js";
import { readOnnxModel, type OnnxModelFile } from "../../formats/onnx/read-onnx.js";
import { readOnnxModelStreamed } from "../../formats/onnx/read-onnx-streamed.js";
import { scanExternalLocations } from "../../formats/onnx/scan-external-locations.js";
import { checkOnnxStructure } from "../../formats/onnx/structure-check.js";
import { writeOnnxModel, type WriteOnnxOptions } from "../../formats/onnx/write-onnx.js";
import type { PassContext, PassLog, PassResult } from "../pass.js";
import { checkOutputRuns } from "./check-output-runs.js";
import { foldConstantReshapes } from "./fold-constant-reshapes.js";
import { liftFloat16 } from "./lift-float16.js";
import { removeUnusedConstants } from "./graph-edit.js";
import { checkKnownOperators } from "./known-operators.js";

async function realOrResolved(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return resolve(path);
  }
}

/** Refuse an output that would overwrite the input model or one of its files (external data). */
export async function checkOutputPath(input: Artifact, outputPath: string): Promise<void> {
  const output = await realOrResolved(outputPath);
  const targets = [output, `${output}.data`];
  for (const file of [input.path, ...input.files]) {
    const inputFile = await realOrResolved(file);
    if (targets.includes(inputFile)) {
      throw new EdgeforgeError("OUTPUT_EQUALS_INPUT", `the output ${outputPath} would overwrite the input ${file}`, {
        hint: "choose another output path (-o); edgeforge never modifies its input",
        details: { input: file, output: outputPath },
      });
    }
  }
}

/** A pass's input model, with what reading it changed (for the pass log). */
export interface PassInputFile extends OnnxModelFile {
  notes: string[];
  /** The input file's sha256 being computed on another thread (instead of `sha256`), for the lineage. */
  pendingSha256?: Promise<string>;
}

/** Inputs at least this large are hashed on another thread while they are read (below it, hashing inline is cheaper than the hand-off). */
const hashAsideMinBytes = 16 << 20;

/**
 * Start hashing a pass's input file on the hashing worker now, for `PassContext.inputSha256`: a caller
 * with checks of its own to do first (quantize()) gives the hash, the longest task of a weight-only
 * pass, a head start. Undefined below the size where hashing inline while reading is cheaper.
 */
export function startInputHash(path: string, sizeBytes: number, signal?: AbortSignal): PassContext["inputSha256"] {
  if (sizeBytes < hashAsideMinBytes) return undefined;
  const digest = hashFileSha256InWorker(path, signal);
  // Handled here so that a caller failing before the pass leaves no unhandled rejection.
  digest.catch(() => undefined);
  return { path, digest };
}

/**
 * Old exporters (IR < 4) list every initializer among the graph inputs too, which makes each weight
 * overridable and so not a constant to a quantizer. Treat them as constants: drop them from the
 * inputs (and raise the IR version to 4, which allows that). Returns how many were dropped.
 */
export function initializersAsConstants(model: ModelProto): number {
  const graph = model.graph;
  if (!graph) return 0;
  const initializers = new Set(graph.initializer.map((t) => t.name));
  const kept = graph.input.filter((i) => !initializers.has(i.name));
  const dropped = graph.input.length - kept.length;
  if (dropped === 0) return 0;
  graph.input = kept;
  if (model.irVersion < 4n) model.irVersion = 4n;
  return dropped;
}

export interface NormalizeOptions {
  /** Widen a float16 model to float32 (the int8 and int4 quantizers work on float32). */
  liftFloat16?: boolean;
}

export interface PassInputOptions extends NormalizeOptions {
  /**
   * Leave large weights in their file (streamed raw data) and hash the file while scanning it: for
   * passes that turn each weight into another without looking at the rest (weight-only
   * quantization), so a model's weights never sit in memory whole.
   */
  streamWeights?: boolean;
}

/**
 * Bring the input forms old and new exporters write into the one form the passes expect:
 * initializers listed as graph inputs become constants, Reshapes of constant weights are folded,
 * float16 models are widened to float32 (when asked). Returns notes saying what changed.
 */
export function normalizeModel(model: ModelProto, options: NormalizeOptions = {}): string[] {
  const notes: string[] = [];
  const irVersion = model.irVersion;
  const lifted = initializersAsConstants(model);
  if (lifted > 0) {
    notes.push(`${lifted} weight(s) were also listed as graph inputs (the IR ${irVersion} convention): treated as constants and removed from the inputs (IR version ${irVersion} → ${model.irVersion}); the output no longer accepts them as inputs`);
  }
  const reshapes = foldConstantReshapes(model);
  if (reshapes > 0) {
    removeUnusedConstants(model);
    notes.push(`${reshapes} Reshape(s) of a constant weight folded into the weight, so that it counts as a constant`);
  }
  if (options.liftFloat16) {
    const widened = liftFloat16(model);
    if (widened.tensorsLifted > 0) {
      notes.push(`float16 model: ${widened.tensorsLifted} float16 tensor(s) widened to float32 (exactly) and ${widened.castsRemoved} float16/float32 Cast(s) removed before quantizing; calibration ran in float32`);
    }
  }
  return notes;
}

async function fileSizeBytes(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    throw fileError(error, path, "read");
  }
}

/** Check the input is ONNX and the output path is safe, then read the model (external data loaded) and normalize it. */
export async function readPassInput(input: Artifact, outputPath: string, context: PassContext, options: PassInputOptions = {}): Promise<PassInputFile> {
  if (input.format !== "onnx") {
    throw new EdgeforgeError("UNKNOWN_FORMAT", `${input.path} is ${input.format}, not ONNX`, {
      hint: "ONNX passes take .onnx models",
      details: { path: input.path, format: input.format },
    });
  }
  await checkOutputPath(input, outputPath);
  const started = input.sha256 === undefined && context.inputSha256?.path === input.path ? context.inputSha256.digest : undefined;
  const hashAside = started === undefined && options.streamWeights === true && input.sha256 === undefined && (await fileSizeBytes(input.path)) >= hashAsideMinBytes;
  const pendingSha256 = started ?? (hashAside ? hashFileSha256InWorker(input.path, context.signal) : undefined);
  // Handled here so that a pass failing before it needs the digest leaves no unhandled rejection.
  pendingSha256?.catch(() => undefined);
  const readOptions = { signal: context.signal, sha256: input.sha256 === undefined && pendingSha256 === undefined };
  const file = options.streamWeights ? await readOnnxModelStreamed(input.path, readOptions) : await readOnnxModel(input.path, readOptions);
  checkKnownOperators(file.model, input.path);
  return { ...file, notes: normalizeModel(file.model, options), ...(pendingSha256 ? { pendingSha256 } : {}) };
}

/** Default "auto" keeps external data when the input had it ("external data in and out"). */
export function externalDataMode(requested: WriteOnnxOptions["externalData"], inputFile: OnnxModelFile): WriteOnnxOptions["externalData"] {
  if (requested && requested !== "auto") return requested;
  return inputFile.externalTensors.length > 0 ? "always" : "auto";
}

export interface PassOutputSpec {
  input: Artifact;
  inputFile: OnnxModelFile & Pick<PassInputFile, "pendingSha256">;
  passId: string;
  passVersion: string;
  options: Record<string, unknown>;
  externalData?: WriteOnnxOptions["externalData"];
  context: PassContext;
  /** Receives the note of the runtime check. */
  log: PassLog;
}

/**
 * ONNX's producer fields name the tool that wrote a model: edgeforge and its version. A source's own
 * producer is kept in metadata_props as `source_producer` (certify reports that one).
 */
export function stampProducer(model: ModelProto): void {
  const source = [model.producerName, model.producerVersion].filter((part) => part !== "").join(" ");
  if (source !== "" && model.producerName !== "edgeforge" && !model.metadataProps.some((entry) => entry.key === "source_producer")) {
    model.metadataProps.push(create(StringStringEntryProtoSchema, { key: "source_producer", value: source }));
  }
  model.producerName = "edgeforge";
  model.producerVersion = edgeforgeVersion;
}

/**
 * Check the rewritten model's structure (a broken graph is our bug, never written), write it
 * atomically, load it and run it once in the context's runtime before it is renamed into place
 * (not kept if that fails), and
 * describe the result as an Artifact with one more lineage step.
 */
export async function writePassOutput(model: ModelProto, outputPath: string, spec: PassOutputSpec): Promise<Artifact> {
  stampProducer(model);
  const issues = checkOnnxStructure(model);
  if (issues.length > 0) {
    throw new EdgeforgeError("INTERNAL", `${spec.passId} produced an invalid graph: ${issues[0]!.message}`, {
      hint: "this is a bug in edgeforge; the output was not written",
      details: { issues: issues.slice(0, 10) },
    });
  }
  let checkNote = "";
  const written = await writeOnnxModel(model, outputPath, {
    externalData: externalDataMode(spec.externalData, spec.inputFile),
    signal: spec.context.signal,
    // The input is being hashed there, so the worker is running: the output's hash overlaps its fsync.
    hashOnWorker: spec.inputFile.pendingSha256 !== undefined,
    // Checked before the rename, while the disk syncs: an output the runtime refuses never replaces anything.
    beforeRename: async (tempPath) => void (checkNote = await checkOutputRuns(tempPath, spec.input.path, spec.context, resolve(outputPath))),
  });
  spec.log.notes.push(checkNote);
  let sizeBytes = 0;
  for (const file of written.files) sizeBytes += (await stat(file)).size;
  const inputSha256 = spec.input.sha256 ?? spec.inputFile.sha256 ?? (await (spec.inputFile.pendingSha256 ?? hashFileSha256(spec.input.path, spec.context.signal)));
  return {
    format: "onnx",
    path: written.path,
    files: written.files,
    sizeBytes,
    sha256: written.sha256,
    lineage: [...spec.input.lineage, { passId: spec.passId, passVersion: spec.passVersion, options: spec.options, inputSha256 }],
  };
}

/**
 * The run of a pass that rewrites its input with the weights streamed (readPassInput's `streamWeights`):
 * read, `rewrite` (the model written is `inputFile.model` afterwards: changed in place, or replaced), then
 * writePassOutput. `normalize`: what the input's reading also does (float16 widened for the quantizers).
 */
export async function runStreamedRewrite<O extends { externalData?: WriteOnnxOptions["externalData"] }>(
  pass: { id: string; version: string },
  input: Artifact,
  outputPath: string,
  options: O,
  context: PassContext,
  rewrite: (inputFile: PassInputFile) => PassLog | Promise<PassLog>,
  normalize: NormalizeOptions = { liftFloat16: true },
): Promise<PassResult> {
  const start = process.hrtime.bigint();
  const inputFile = await readPassInput(input, outputPath, context, { ...normalize, streamWeights: true });
  const log = await rewrite(inputFile);
  const artifact = await writePassOutput(inputFile.model, outputPath, {
    input, inputFile, passId: pass.id, passVersion: pass.version, options, externalData: options.externalData, context, log,
  });
  return passResult(artifact, log, start);
}

/**
 * An ONNX model file as an Artifact (external data files included), for callers that start from a
 * path. Only field headers are read (the pass reads the model itself); a file that does not parse
 * is read in full so that the reader's error says why.
 */
export async function describeOnnxArtifact(path: string): Promise<Artifact> {
  const absolute = resolve(path);
  let locations: string[] | undefined;
  try {
    locations = await scanExternalLocations(absolute);
  } catch (error) {
    throw fileError(error, path, "read");
  }
  const dataFiles = locations
    ? await Promise.all(locations.map((location) => resolveExternalLocation(dirname(absolute), location)))
    : (await readOnnxModel(path, { loadExternalData: false })).externalTensors.map((ref) => ref.filePath);
  const files = [absolute, ...new Set(dataFiles)];
  let sizeBytes = 0;
  for (const f of files) sizeBytes += (await stat(f)).size;
  return { format: "onnx", path: absolute, files, sizeBytes, lineage: [] };
}

export function emptyLog(notes: readonly string[] = []): PassLog {
  return { counts: {}, notes: [...notes] };
}

export function addCount(log: PassLog, key: string, amount = 1): void {
  log.counts[key] = (log.counts[key] ?? 0) + amount;
}

export function elapsedMs(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e6;
}

export function passResult(artifact: Artifact, log: PassLog, startNs: bigint): PassResult {
  return { artifact, log, durationMs: elapsedMs(startNs) };
}
