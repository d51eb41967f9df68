import { openByteSource, type ByteSource } from "../../core/byte-source.js";
import { EdgeforgeError } from "../../core/errors.js";

/**
 * Karpathy's llama2.c checkpoints. Two float32 layouts exist:
 * - legacy (export.py `legacy_export`, version 0): 7 × int32 config, then the weights; the
 *   classifier is shared with the embedding when vocab_size is positive, and the RoPE tables
 *   freq_cis_real/imag [seq_len × head_size/2] sit before an unshared classifier;
 * - version 1 (`version1_export`): a 256-byte header (magic "ak42", version, config, a
 *   shared-classifier byte), then the norms first and no RoPE tables.
 * Version 2 (Q8_0 groups) is recognised and refused.
 */
export const llama2cMagic = 0x616b3432;

export interface Llama2cConfig {
  dim: number;
  hiddenDim: number;
  layerCount: number;
  headCount: number;
  kvHeadCount: number;
  vocabSize: number;
  seqLen: number;
}

export interface Llama2cTensor {
  /** llama2.c's name (`wq`, `rms_att_weight`…); stacked per-layer tensors carry the layer. */
  name: string;
  layer?: number;
  /** Row-major [rows, cols] (or [n] for vectors), as the file stores it. */
  shape: number[];
  /** Byte offset in the file. */
  offset: number;
  elementCount: number;
}

export interface Llama2cHeader {
  path: string;
  fileSizeBytes: number;
  version: 0 | 1;
  config: Llama2cConfig;
  headDim: number;
  sharedClassifier: boolean;
  tensors: Llama2cTensor[];
  /** Float32 values stored, RoPE tables included. */
  storedValueCount: number;
}

const legacyHeaderBytes = 28;
const version1HeaderBytes = 256;

function invalid(path: string, message: string, details: Record<string, unknown> = {}): EdgeforgeError {
  return new EdgeforgeError("CORRUPT_MODEL", `${path}: ${message}`, {
    hint: "a llama2.c checkpoint is 7 int32 config values (or the 256-byte \"ak42\" header) followed by float32 weights; re-export it with llama2.c's export.py",
    details: { path, ...details },
  });
}

function configFrom(view: DataView, offset: number): { config: Llama2cConfig; signedVocab: number } {
  const at = (index: number): number => view.getInt32(offset + index * 4, true);
  const signedVocab = at(5);
  return {
    config: { dim: at(0), hiddenDim: at(1), layerCount: at(2), headCount: at(3), kvHeadCount: at(4), vocabSize: Math.abs(signedVocab), seqLen: at(6) },
    signedVocab,
  };
}

function plausible(config: Llama2cConfig): boolean {
  const { dim, hiddenDim, layerCount, headCount, kvHeadCount, vocabSize, seqLen } = config;
  const sane = (value: number, max: number): boolean => Number.isInteger(value) && value > 0 && value <= max;
  return (
    sane(dim, 1 << 16) &&
    sane(hiddenDim, 1 << 18) &&
    sane(layerCount, 1024) &&
    sane(headCount, 1024) &&
    sane(kvHeadCount, headCount) &&
    sane(vocabSize, 1 << 22) &&
    sane(seqLen, 1 << 22) &&
    dim % headCount === 0 &&
    headCount % kvHeadCount === 0 &&
    (dim / headCount) % 2 === 0
  );
}

/** The stored tensors in file order. */
function layoutTensors(version: 0 | 1, config: Llama2cConfig, sharedClassifier: boolean, dataOffset: number): Llama2cTensor[] {
  const { dim, hiddenDim, layerCount, vocabSize, seqLen } = config;
  const headDim = dim / config.headCount;
  const kvDim = config.kvHeadCount * headDim;
  const tensors: Llama2cTensor[] = [];
  let offset = dataOffset;
  const add = (name: string, shape: number[], layer?: number): void => {
    const elementCount = shape.reduce((product, size) => product * size, 1);
    tensors.push({ name, shape, offset, elementCount, ...(layer === undefined ? {} : { layer }) });
    offset += elementCount * 4;
  };
  const perLayer = (name: string, shape: number[]): void => {
    for (let layer = 0; layer < layerCount; layer += 1) add(name, shape, layer);
  };
  const matrices = (): void => {
    perLayer("wq", [dim, dim]);
    perLayer("wk", [kvDim, dim]);
    perLayer("wv", [kvDim, dim]);
    perLayer("wo", [dim, dim]);
  };
  if (version === 0) {
    add("token_embedding_table", [vocabSize, dim]);
    perLayer("rms_att_weight", [dim]);
    matrices();
    perLayer("rms_ffn_weight", [dim]);
    perLayer("w1", [hiddenDim, dim]);
    perLayer("w2", [dim, hiddenDim]);
    perLayer("w3", [hiddenDim, dim]);
    add("rms_final_weight", [dim]);
    add("freq_cis_real", [seqLen, headDim / 2]);
    add("freq_cis_imag", [seqLen, headDim / 2]);
  } else {
    perLayer("rms_att_weight", [dim]);
    perLayer("rms_ffn_weight", [dim]);
    add("rms_final_weight", [dim]);
    add("token_embedding_table", [vocabSize, dim]);
    matrices();
    perLayer("w1", [hiddenDim, dim]);
    perLayer("w2", [dim, hiddenDim]);
    perLayer("w3", [hiddenDim, dim]);
  }
  if (!sharedClassifier) add("wcls", [vocabSize, dim]);
  return tensors;
}

function storedBytes(tensors: Llama2cTensor[]): number {
  const last = tensors.at(-1);
  return last ? last.offset + last.elementCount * 4 : 0;
}

/** The header as read from the first bytes, or undefined when they are no llama2.c checkpoint of exactly this size. */
export function parseLlama2cHeader(head: Uint8Array, fileSizeBytes: number, path: string): Llama2cHeader | undefined {
  if (head.length < legacyHeaderBytes) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (view.getUint32(0, true) === llama2cMagic) {
    const version = head.length >= 8 ? view.getInt32(4, true) : -1;
    if (version !== 1) {
      throw new EdgeforgeError("UNSUPPORTED_FEATURE", `${path} is a llama2.c version ${version} checkpoint; edgeforge reads the float32 layouts (legacy and version 1)`, {
        hint: "re-export it with llama2.c's export.py --version 1 (or the legacy format)",
        details: { path, version },
      });
    }
    if (head.length < 37) return undefined;
    const { config } = configFrom(view, 8);
    if (!plausible(config)) throw invalid(path, "its \"ak42\" header holds an impossible configuration", { config });
    const sharedClassifier = head[36] === 1;
    return finish(path, fileSizeBytes, 1, config, sharedClassifier, version1HeaderBytes, true);
  }
  const { config, signedVocab } = configFrom(view, 0);
  if (!plausible(config)) return undefined;
  return finish(path, fileSizeBytes, 0, config, signedVocab > 0, legacyHeaderBytes, false);
}

function finish(path: string, fileSizeBytes: number, version: 0 | 1, config: Llama2cConfig, sharedClassifier: boolean, dataOffset: number, strict: boolean): Llama2cHeader | undefined {
  const tensors = layoutTensors(version, config, sharedClassifier, dataOffset);
  const expected = storedBytes(tensors);
  if (expected !== fileSizeBytes) {
    // Without a magic number, a size mismatch means "not llama2.c" rather than "corrupt".
    if (!strict) return undefined;
    throw new EdgeforgeError(expected > fileSizeBytes ? "TRUNCATED_FILE" : "CORRUPT_MODEL", `${path}: its header describes ${expected} bytes but the file has ${fileSizeBytes}`, {
      hint: "the file is truncated or not a float32 llama2.c checkpoint; re-export it",
      details: { path, expectedBytes: expected, fileSizeBytes },
    });
  }
  return {
    path,
    fileSizeBytes,
    version,
    config,
    headDim: config.dim / config.headCount,
    sharedClassifier,
    tensors,
    storedValueCount: tensors.reduce((sum, tensor) => sum + tensor.elementCount, 0),
  };
}

/** Bytes `parseLlama2cHeader` needs. */
export const llama2cHeadBytes = 40;

export async function readLlama2cHeaderFromSource(source: ByteSource): Promise<Llama2cHeader> {
  const head = await source.read(0, Math.min(llama2cHeadBytes, source.sizeBytes));
  const header = parseLlama2cHeader(head, source.sizeBytes, source.path);
  if (!header) throw invalid(source.path, "is not a llama2.c checkpoint (its first 7 int32 values and its size do not describe one)");
  return header;
}

export async function readLlama2cHeader(path: string): Promise<Llama2cHeader> {
  await using source = await openByteSource(path);
  // `return await`: the source must stay open until the header has been read.
  return await readLlama2cHeaderFromSource(source);
}

/** One stored tensor's float32 values (a copy, aligned). */
export async function readLlama2cTensor(source: ByteSource, tensor: Llama2cTensor): Promise<Float32Array> {
  const bytes = await source.read(tensor.offset, tensor.elementCount * 4);
  return new Float32Array(bytes.buffer, bytes.byteOffset, tensor.elementCount);
}
