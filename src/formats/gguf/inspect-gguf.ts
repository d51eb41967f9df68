import { EdgeforgeError } from "../../core/errors.js";
import { estimateLlmMemory, type LlmDimensions, type LlmMemoryEstimate } from "../llm-memory-estimate.js";
import type { DtypeTally, ModelSummary } from "../model-inspection.js";
import { ggmlBitsPerWeight, llamaFileTypes, type GgmlTypeName, type LlamaFileTypeInfo } from "./ggml-types.js";
import { ggufArrayItemsToJson, ggufValueToJson, ggufVocabularySize, getGgufNumber, getGgufString, shortestFloat32, type GgufMetadata, type GgufValueType } from "./gguf-metadata.js";
import { readGgufHeader, type GgufHeader } from "./read-gguf.js";

export interface InspectGgufOptions {
  /** Context length for the KV-cache and RAM estimates; default: `<arch>.context_length`. */
  contextLength?: number;
  signal?: AbortSignal;
}

/** One metadata entry, JSON-friendly: scalars carry `value`; arrays carry `itemType`, `length` and `firstValues`. */
export interface GgufMetadataSummary {
  type: GgufValueType;
  value?: unknown;
  itemType?: GgufValueType;
  length?: number;
  firstValues?: unknown[];
}

export interface GgufTypeTally extends DtypeTally {
  /** The ggml type name, e.g. "Q4_K". */
  dtype: GgmlTypeName;
  tensorCount: number;
  bitsPerWeight: number;
}

export interface GgufTensorSummary {
  name: string;
  dims: number[];
  type: GgmlTypeName;
  elementCount: number;
  sizeBytes: number;
  /** Offset from the start of the data section. */
  offset: number;
}

/** `<arch>.*` hyper-parameters; absent ones are left out. */
export interface GgufHyperParameters {
  contextLength?: number;
  embeddingLength?: number;
  blockCount?: number;
  feedForwardLength?: number;
  headCount?: number;
  /** One number, or one per layer when the file stores an array. */
  headCountKv?: number | number[];
  headDim?: number;
  /** Per-head value width, only when it differs from `headDim`. */
  valueHeadDim?: number;
  ropeFreqBase?: number;
  layerNormRmsEpsilon?: number;
  vocabSize?: number;
}

export interface GgufInspection extends ModelSummary {
  format: "gguf";
  version: 2 | 3;
  alignment: number;
  headerSizeBytes: number;
  dataOffset: number;
  tensorCount: number;
  fileType?: LlamaFileTypeInfo;
  /** Stored bits per weight over all tensors. */
  bitsPerWeight: number;
  byDtype: GgufTypeTally[];
  hyperParameters: GgufHyperParameters;
  metadata: Record<string, GgufMetadataSummary>;
  tensors: GgufTensorSummary[];
  memory: LlmMemoryEstimate;
}

const arrayPreviewLength = 8;

/** The type most parameters are stored in: what llama.cpp's loader guesses when a file records no `general.file_type`. */
export function dominantGgufType(tensors: readonly { type: GgmlTypeName; elementCount: number }[]): GgmlTypeName | undefined {
  const parameters = new Map<GgmlTypeName, number>();
  for (const tensor of tensors) parameters.set(tensor.type, (parameters.get(tensor.type) ?? 0) + tensor.elementCount);
  return [...parameters].sort(([, a], [, b]) => b - a)[0]?.[0];
}

export async function inspectGguf(path: string, options: InspectGgufOptions = {}): Promise<GgufInspection> {
  if (options.contextLength !== undefined && (!Number.isSafeInteger(options.contextLength) || options.contextLength <= 0)) {
    throw new EdgeforgeError("INVALID_OPTION", `context length ${options.contextLength} is not a positive integer`, {
      hint: "pass --ctx as a whole number of tokens, e.g. --ctx 4096",
    });
  }
  const header = await readGgufHeader(path, { signal: options.signal });
  return summarizeGgufHeader(header, options.contextLength);
}

/** The inspection of an already-read header (pure). */
export function summarizeGgufHeader(header: GgufHeader, contextLength?: number): GgufInspection {
  const { metadata } = header;
  const architecture = getGgufString(metadata, "general.architecture") ?? "unknown";
  const hyperParameters = readHyperParameters(metadata, architecture);
  const parameterCount = header.tensors.reduce((sum, tensor) => sum + tensor.elementCount, 0);
  const weightsBytes = header.tensors.reduce((sum, tensor) => sum + tensor.sizeBytes, 0);
  const fileTypeId = getGgufNumber(metadata, "general.file_type");
  const fileType = fileTypeId === undefined ? undefined : llamaFileTypes.get(fileTypeId);
  const dims = llmDimensions(hyperParameters);
  return {
    format: "gguf",
    path: header.path,
    fileSizeBytes: header.fileSizeBytes,
    parameterCount,
    byDtype: tallyByType(header),
    architecture,
    memory: estimateLlmMemory(weightsBytes, dims, contextLength ?? hyperParameters.contextLength),
    version: header.version,
    alignment: header.alignment,
    headerSizeBytes: header.headerSizeBytes,
    dataOffset: header.dataOffset,
    tensorCount: header.tensors.length,
    ...(fileType ? { fileType } : {}),
    bitsPerWeight: parameterCount > 0 ? (weightsBytes * 8) / parameterCount : 0,
    hyperParameters,
    metadata: summarizeMetadata(metadata),
    tensors: header.tensors.map(({ name, dims: tensorDims, type, elementCount, sizeBytes, offset }) => ({ name, dims: tensorDims, type, elementCount, sizeBytes, offset })),
  };
}

function tallyByType(header: GgufHeader): GgufTypeTally[] {
  const tallies = new Map<GgmlTypeName, GgufTypeTally>();
  for (const tensor of header.tensors) {
    const tally = tallies.get(tensor.type) ?? { dtype: tensor.type, tensorCount: 0, parameterCount: 0, sizeBytes: 0, bitsPerWeight: ggmlBitsPerWeight(tensor.type) };
    tally.tensorCount += 1;
    tally.parameterCount += tensor.elementCount;
    tally.sizeBytes += tensor.sizeBytes;
    tallies.set(tensor.type, tally);
  }
  return [...tallies.values()].sort((a, b) => b.sizeBytes - a.sizeBytes);
}

function readHyperParameters(metadata: GgufMetadata, arch: string): GgufHyperParameters {
  const number = (key: string): number | undefined => {
    const value = getGgufNumber(metadata, `${arch}.${key}`);
    return value !== undefined && metadata.get(`${arch}.${key}`)?.type === "float32" ? shortestFloat32(value) : value;
  };
  const headCount = number("attention.head_count");
  const embeddingLength = number("embedding_length");
  const kvEntry = metadata.get(`${arch}.attention.head_count_kv`);
  const headCountKv =
    kvEntry?.type === "array" && typeof kvEntry.items[0] === "number" ? Array.from(kvEntry.items as ArrayLike<number>) : (number("attention.head_count_kv") ?? headCount);
  const headDim = number("attention.key_length") ?? (headCount && embeddingLength ? embeddingLength / headCount : undefined);
  const valueHeadDim = number("attention.value_length") ?? headDim;
  const all: GgufHyperParameters = {
    contextLength: number("context_length"),
    embeddingLength,
    blockCount: number("block_count"),
    feedForwardLength: number("feed_forward_length"),
    headCount,
    headCountKv,
    headDim,
    valueHeadDim: valueHeadDim !== headDim ? valueHeadDim : undefined,
    ropeFreqBase: number("rope.freq_base"),
    layerNormRmsEpsilon: number("attention.layer_norm_rms_epsilon"),
    vocabSize: number("vocab_size") ?? (ggufVocabularySize(metadata) || undefined),
  };
  return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined)) as GgufHyperParameters;
}

function llmDimensions(hp: GgufHyperParameters): LlmDimensions | undefined {
  const { blockCount, embeddingLength, headCount, headCountKv, headDim } = hp;
  if (!blockCount || !embeddingLength || !headCount || headCountKv === undefined || !headDim) return undefined;
  if (Array.isArray(headCountKv) && headCountKv.length !== blockCount) return undefined;
  return {
    layerCount: blockCount,
    embeddingLength,
    headCount,
    headCountKv,
    keyLength: headDim,
    valueLength: hp.valueHeadDim ?? headDim,
    feedForwardLength: hp.feedForwardLength,
    vocabSize: hp.vocabSize,
  };
}

function summarizeMetadata(metadata: GgufMetadata): Record<string, GgufMetadataSummary> {
  // No prototype: a key named "__proto__" stays an ordinary entry.
  const out = Object.create(null) as Record<string, GgufMetadataSummary>;
  for (const [key, value] of metadata) {
    out[key] =
      value.type === "array"
        ? { type: "array", itemType: value.itemType, length: value.items.length, firstValues: ggufArrayItemsToJson(value.items, arrayPreviewLength) }
        : { type: value.type, value: ggufValueToJson(value) };
  }
  return out;
}
