import { EdgeforgeError } from "../../core/errors.js";
import { estimateLlmMemory, type LlmMemoryEstimate } from "../llm-memory-estimate.js";
import type { ModelSummary } from "../model-inspection.js";
import { readLlama2cHeader, type Llama2cConfig, type Llama2cHeader } from "./read-llama2c.js";

export interface Llama2cTensorSummary {
  name: string;
  layer?: number;
  shape: number[];
  elementCount: number;
  offset: number;
}

export interface Llama2cInspection extends ModelSummary {
  format: "llama2c";
  /** 0: legacy export (7 int32 header); 1: "ak42" version-1 header. */
  version: 0 | 1;
  config: Llama2cConfig;
  headDim: number;
  sharedClassifier: boolean;
  /** Stored float32 values that are not weights (legacy RoPE tables). */
  ropeTableValues: number;
  tensorCount: number;
  tensors: Llama2cTensorSummary[];
  /** llama2.c checkpoints carry no tokenizer: converting needs one (a tokenizer.bin or a GGUF with the same vocabulary). */
  hasTokenizer: false;
  memory: LlmMemoryEstimate;
}

/** Describe a llama2.c checkpoint from its header and size alone. */
export async function inspectLlama2c(path: string, options: { contextLength?: number } = {}): Promise<Llama2cInspection> {
  if (options.contextLength !== undefined && (!Number.isSafeInteger(options.contextLength) || options.contextLength <= 0)) {
    throw new EdgeforgeError("INVALID_OPTION", `context length ${options.contextLength} is not a positive integer`, { hint: "pass --ctx as a whole number of tokens, e.g. --ctx 512" });
  }
  return summarizeLlama2cHeader(await readLlama2cHeader(path), options.contextLength);
}

export function summarizeLlama2cHeader(header: Llama2cHeader, contextLength?: number): Llama2cInspection {
  const { config } = header;
  const weights = header.tensors.filter((tensor) => !tensor.name.startsWith("freq_cis"));
  const parameterCount = weights.reduce((sum, tensor) => sum + tensor.elementCount, 0);
  const dims = {
    layerCount: config.layerCount,
    embeddingLength: config.dim,
    headCount: config.headCount,
    headCountKv: config.kvHeadCount,
    keyLength: header.headDim,
    valueLength: header.headDim,
    feedForwardLength: config.hiddenDim,
    vocabSize: config.vocabSize,
  };
  return {
    format: "llama2c",
    path: header.path,
    fileSizeBytes: header.fileSizeBytes,
    parameterCount,
    byDtype: [{ dtype: "F32", parameterCount, sizeBytes: parameterCount * 4 }],
    architecture: "llama",
    memory: estimateLlmMemory(parameterCount * 4, dims, contextLength ?? config.seqLen),
    version: header.version,
    config,
    headDim: header.headDim,
    sharedClassifier: header.sharedClassifier,
    ropeTableValues: header.storedValueCount - parameterCount,
    tensorCount: header.tensors.length,
    tensors: header.tensors.map(({ name, layer, shape, elementCount, offset }) => ({ name, ...(layer === undefined ? {} : { layer }), shape, elementCount, offset })),
    hasTokenizer: false,
  };
}
