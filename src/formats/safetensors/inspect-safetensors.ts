import { stat } from "node:fs/promises";
import { EdgeforgeError, fileError } from "../../core/errors.js";
import { estimateLlmMemory, type LlmDimensions, type LlmMemoryEstimate } from "../llm-memory-estimate.js";
import type { DtypeTally, ModelSummary } from "../model-inspection.js";
import { readHfModelFolder, readSafetensorsFileWithConfig, type HfModelFolder } from "./read-hf-folder.js";
import type { SafetensorsDtype } from "./read-safetensors.js";

export interface InspectSafetensorsOptions {
  /** Context length for the KV-cache and RAM estimates; default: config.json's max_position_embeddings. */
  contextLength?: number;
  signal?: AbortSignal;
}

/** The config.json fields that size a transformer; absent ones are left out. */
export interface HfArchitecture {
  modelType?: string;
  architectures?: string[];
  hiddenSize?: number;
  numHiddenLayers?: number;
  numAttentionHeads?: number;
  /** Defaults to numAttentionHeads when config.json omits it (no GQA). */
  numKeyValueHeads?: number;
  headDim?: number;
  intermediateSize?: number;
  maxPositionEmbeddings?: number;
  vocabSize?: number;
  torchDtype?: string;
}

export interface SafetensorsDtypeTally extends DtypeTally {
  dtype: SafetensorsDtype;
  tensorCount: number;
}

export interface SafetensorsFileSummary {
  path: string;
  sizeBytes: number;
  headerSizeBytes: number;
  tensorCount: number;
}

export interface SafetensorsTensorSummary {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  elementCount: number;
  sizeBytes: number;
  /** Index into `files`. */
  file: number;
}

export interface SafetensorsInspection extends ModelSummary {
  format: "safetensors" | "mlx";
  layout: "file" | "folder";
  files: SafetensorsFileSummary[];
  indexFile?: string;
  tensorCount: number;
  byDtype: SafetensorsDtypeTally[];
  /** `__metadata__` of every file, merged. */
  metadata: Record<string, string>;
  config?: HfArchitecture;
  /** MLX only: config.json's `quantization` (bits, group_size, per-module overrides). */
  quantization?: Record<string, unknown>;
  tensors: SafetensorsTensorSummary[];
  memory: LlmMemoryEstimate;
}

export async function inspectSafetensors(path: string, options: InspectSafetensorsOptions = {}): Promise<SafetensorsInspection> {
  if (options.contextLength !== undefined && (!Number.isSafeInteger(options.contextLength) || options.contextLength <= 0)) {
    throw new EdgeforgeError("INVALID_OPTION", `context length ${options.contextLength} is not a positive integer`, {
      hint: "pass --ctx as a whole number of tokens, e.g. --ctx 4096",
    });
  }
  let isFolder: boolean;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch (error) {
    throw fileError(error, path, "read");
  }
  const model = isFolder ? await readHfModelFolder(path, options.signal) : await readSafetensorsFileWithConfig(path, options.signal);
  return summarizeHfModel(model, isFolder ? "folder" : "file", options.contextLength);
}

/** The inspection of already-read headers and config (pure). */
export function summarizeHfModel(model: HfModelFolder, layout: "file" | "folder", contextLength?: number): SafetensorsInspection {
  const quantization = isRecord(model.config?.quantization) ? model.config.quantization : undefined;
  const format = quantization ? "mlx" : "safetensors";
  const seen = new Set<string>();
  const tensors: SafetensorsTensorSummary[] = [];
  const metadata = Object.create(null) as Record<string, string>;
  for (const [file, shard] of model.shards.entries()) {
    Object.assign(metadata, shard.metadata);
    for (const tensor of shard.tensors) {
      if (seen.has(tensor.name)) {
        throw new EdgeforgeError("CORRUPT_MODEL", `tensor "${tensor.name}" appears in more than one shard of ${model.path}`, {
          hint: "remove stray .safetensors files from the folder, or re-download the model",
          details: { path: model.path, tensor: tensor.name },
        });
      }
      seen.add(tensor.name);
      tensors.push({ name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, elementCount: tensor.elementCount, sizeBytes: tensor.sizeBytes, file });
    }
  }
  const config = model.config ? readArchitecture(model.config) : undefined;
  const weightsBytes = tensors.reduce((sum, tensor) => sum + tensor.sizeBytes, 0);
  return {
    format,
    path: model.path,
    fileSizeBytes: model.shards.reduce((sum, shard) => sum + shard.fileSizeBytes, 0),
    parameterCount: countParameters(tensors, quantization),
    byDtype: tallyByDtype(tensors),
    architecture: config?.modelType ?? config?.architectures?.[0] ?? "unknown",
    memory: estimateLlmMemory(weightsBytes, config ? llmDimensions(config) : undefined, contextLength ?? config?.maxPositionEmbeddings),
    layout,
    files: model.shards.map((shard) => ({ path: shard.path, sizeBytes: shard.fileSizeBytes, headerSizeBytes: shard.headerSizeBytes, tensorCount: shard.tensors.length })),
    ...(model.indexFile ? { indexFile: model.indexFile } : {}),
    tensorCount: tensors.length,
    metadata,
    ...(config ? { config } : {}),
    ...(quantization ? { quantization } : {}),
    tensors,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Element counts, except for MLX-quantized layers: their `weight` packs 32/bits values per U32
 * element and their `scales`/`biases` are quantization overhead, not parameters.
 */
function countParameters(tensors: SafetensorsTensorSummary[], quantization: Record<string, unknown> | undefined): number {
  if (!quantization) return tensors.reduce((sum, tensor) => sum + tensor.elementCount, 0);
  const names = new Set(tensors.map((tensor) => tensor.name));
  const quantizedModules = new Set(tensors.filter((t) => t.name.endsWith(".scales")).map((t) => t.name.slice(0, -".scales".length)));
  let count = 0;
  for (const tensor of tensors) {
    const module = tensor.name.replace(/\.(weight|scales|biases)$/, "");
    if (!quantizedModules.has(module) || !names.has(`${module}.weight`)) {
      count += tensor.elementCount;
      continue;
    }
    if (!tensor.name.endsWith(".weight")) continue;
    const override = quantization[module];
    const bits = isRecord(override) && typeof override.bits === "number" ? override.bits : quantization.bits;
    const elementBits = tensor.dtype === "U32" ? 32 : tensor.dtype === "U8" ? 8 : undefined;
    count += typeof bits === "number" && bits > 0 && elementBits ? (tensor.elementCount * elementBits) / bits : tensor.elementCount;
  }
  return count;
}

function tallyByDtype(tensors: SafetensorsTensorSummary[]): SafetensorsDtypeTally[] {
  const tallies = new Map<SafetensorsDtype, SafetensorsDtypeTally>();
  for (const tensor of tensors) {
    const tally = tallies.get(tensor.dtype) ?? { dtype: tensor.dtype, tensorCount: 0, parameterCount: 0, sizeBytes: 0 };
    tally.tensorCount += 1;
    tally.parameterCount += tensor.elementCount;
    tally.sizeBytes += tensor.sizeBytes;
    tallies.set(tensor.dtype, tally);
  }
  return [...tallies.values()].sort((a, b) => b.sizeBytes - a.sizeBytes);
}

function readArchitecture(raw: Record<string, unknown>): HfArchitecture {
  // Multimodal configs keep the language model's sizes under text_config.
  const text = raw.num_hidden_layers === undefined && isRecord(raw.text_config) ? { ...raw, ...raw.text_config } : raw;
  const count = (key: string): number | undefined => {
    const value = text[key];
    return typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : undefined;
  };
  const heads = count("num_attention_heads");
  const architectures = Array.isArray(raw.architectures) ? raw.architectures.filter((name): name is string => typeof name === "string") : undefined;
  const all: HfArchitecture = {
    modelType: typeof raw.model_type === "string" ? raw.model_type : undefined,
    architectures,
    hiddenSize: count("hidden_size"),
    numHiddenLayers: count("num_hidden_layers"),
    numAttentionHeads: heads,
    numKeyValueHeads: count("num_key_value_heads") ?? heads,
    headDim: count("head_dim"),
    intermediateSize: count("intermediate_size"),
    maxPositionEmbeddings: count("max_position_embeddings"),
    vocabSize: count("vocab_size"),
    torchDtype: typeof text.torch_dtype === "string" ? text.torch_dtype : undefined,
  };
  return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined)) as HfArchitecture;
}

function llmDimensions(config: HfArchitecture): LlmDimensions | undefined {
  const { numHiddenLayers, hiddenSize, numAttentionHeads, numKeyValueHeads } = config;
  if (!numHiddenLayers || !hiddenSize || !numAttentionHeads || !numKeyValueHeads) return undefined;
  const headDim = config.headDim ?? hiddenSize / numAttentionHeads;
  return {
    layerCount: numHiddenLayers,
    embeddingLength: hiddenSize,
    headCount: numAttentionHeads,
    headCountKv: numKeyValueHeads,
    keyLength: headDim,
    valueLength: headDim,
    feedForwardLength: config.intermediateSize,
    vocabSize: config.vocabSize,
  };
}
