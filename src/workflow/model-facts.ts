import { stat } from "node:fs/promises";
import type { Artifact, ModelFormat } from "../core/artifact.js";
import { EdgeforgeError, fileError } from "../core/errors.js";
import { hashFileSha256, hashFolderSha256 } from "../core/hashing.js";
import type { ShapeOverrides } from "../core/shapes.js";
import { detectModelFormat } from "../formats/detect-format.js";
import { dominantGgufType, inspectGguf, type GgufInspection } from "../formats/gguf/inspect-gguf.js";
import type { ModelSummary } from "../formats/model-inspection.js";
import { inspectOnnx, type OnnxInspection } from "../formats/onnx/inspect-onnx.js";
import { inspectSafetensors, type SafetensorsInspection } from "../formats/safetensors/inspect-safetensors.js";
import { assessFit } from "../hardware/assess-fit.js";
import type { ModelKind } from "../hardware/recommend-frameworks.js";
import type { TargetProfile } from "../hardware/target-profile.js";
import type { HashedArtifact } from "./produce-artifact.js";
import type { ModelFacts } from "./plan-types.js";

export interface InspectedModel {
  artifact: HashedArtifact;
  summary: ModelSummary;
  facts: ModelFacts;
}

function kindOf(format: ModelFormat, architecture: string, isLanguageModel: boolean): ModelKind {
  if (format === "gguf" || isLanguageModel || architecture === "transformer-decoder") return "llm";
  if (architecture === "cnn") return "vision";
  if (architecture === "rnn-lstm") return "audio";
  return "other";
}

async function summarize(path: string, format: ModelFormat, options: { shapes?: ShapeOverrides; contextLength?: number; signal?: AbortSignal }): Promise<ModelSummary> {
  const signal = options.signal ? { signal: options.signal } : {};
  const context = options.contextLength ? { contextLength: options.contextLength } : {};
  if (format === "onnx") return inspectOnnx(path, { ...(options.shapes ? { shapes: options.shapes } : {}), ...signal });
  if (format === "gguf") return inspectGguf(path, { ...context, ...signal });
  if (format === "llama2c") {
    throw new EdgeforgeError("UNSUPPORTED_FEATURE", `${path} is a llama2.c checkpoint; optimize reads GGUF, ONNX and Hugging Face models`, {
      hint: "convert it first: `edgeforge convert FILE.bin --to gguf --vocab-from MODEL.gguf` (or --tokenizer tokenizer.bin)",
      details: { path, format },
    });
  }
  return inspectSafetensors(path, { ...context, ...signal });
}

/** Memory an artifact is estimated to need on the target (weights + KV cache + runtime), from its headers. */
export async function estimateArtifactRunBytes(artifact: Artifact, target: TargetProfile, options: { shapes?: ShapeOverrides; contextLength?: number; signal?: AbortSignal } = {}): Promise<number> {
  return assessFit(await summarize(artifact.path, artifact.format, options), target).estimatedRunBytes;
}

/** Inspect the input (headers and graph only, no engine) into the facts planning needs, and hash it. */
export async function inspectModelFacts(path: string, target: TargetProfile, options: { shapes?: ShapeOverrides; contextLength?: number; signal?: AbortSignal } = {}): Promise<InspectedModel> {
  const { format } = await detectModelFormat(path);
  const summary = await summarize(path, format, options);
  let weightNodesByOp: Record<string, number> = {};
  let fileType: string | undefined;
  let contextLength: number | undefined;
  let files = [path];
  if (summary.format === "onnx") {
    const inspection = summary as OnnxInspection;
    // Float weights only: those a QDQ model already holds as integers are no work for a quantizer.
    weightNodesByOp = Object.fromEntries(inspection.quantizable.map((q) => [q.op, q.nodesWithConstantWeights - q.nodesWithQuantizedWeights]));
    files = [path, ...inspection.externalData.files];
  } else if (summary.format === "gguf") {
    // Not recorded (llama2.c conversions): the type most parameters are in, as llama.cpp guesses it.
    fileType = (summary as GgufInspection).fileType?.name ?? dominantGgufType((summary as GgufInspection).tensors);
    contextLength = (summary as GgufInspection).hyperParameters.contextLength;
  } else {
    files = (summary as SafetensorsInspection).files.map((file) => file.path);
  }
  let isFolder: boolean;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch (error) {
    throw fileError(error, path, "read");
  }
  const sizeBytes = isFolder ? summary.fileSizeBytes : (await stat(path)).size;
  const sha256 = isFolder ? await hashFolderSha256(path, options.signal) : await hashFileSha256(path, options.signal);
  const artifact: HashedArtifact = { format: summary.format, path, files, sizeBytes, sha256, lineage: [] } satisfies Artifact & { sha256: string };
  const isLanguageModel = summary.memory.kvCacheBytes !== undefined;
  const facts: ModelFacts = {
    format: summary.format,
    path,
    sizeBytes,
    parameterCount: summary.parameterCount,
    architecture: summary.architecture,
    modelKind: kindOf(summary.format, summary.architecture, isLanguageModel),
    hasFloat32Weights: summary.byDtype.some((tally) => tally.dtype === "float32" || tally.dtype === "F32"),
    weightNodesByOp,
    ...(fileType ? { fileType } : {}),
    ...(contextLength ? { contextLength } : {}),
    fit: assessFit(summary, target),
  };
  return { artifact, summary, facts };
}
