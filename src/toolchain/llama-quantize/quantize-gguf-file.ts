import { mkdir, realpath, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { tempPathFor } from "../../core/atomic-write.js";
import { EdgeforgeError, fileError } from "../../core/errors.js";
import type { Reporter } from "../../core/logger.js";
import { ggmlTypeCatalog, isGgmlTypeName, llamaFileTypes } from "../../formats/gguf/ggml-types.js";
import { getGgufNumber } from "../../formats/gguf/gguf-metadata.js";
import { dominantGgufType } from "../../formats/gguf/inspect-gguf.js";
import { readGgufHeader, type GgufHeader } from "../../formats/gguf/read-gguf.js";
import { vocabularyOnlyError } from "../../formats/gguf/vocabulary-only.js";
import { findLlamaQuantizeType, llamaQuantizeTypeNames, type LlamaQuantizeType } from "./llama-quantize-types.js";
import type { NativeQuantizeRequest } from "./llama-quantize-native.js";
import { readImportanceMatrix } from "./read-imatrix.js";
import { spawnLlamaQuantize } from "./spawn-llama-quantize.js";

export interface TensorTypeOverride {
  /** A regular expression matched against tensor names (std::regex, first match wins), e.g. "ffn_down". */
  pattern: string;
  /** ggml type name, e.g. "Q8_0". */
  type: string;
}

export interface LlamaQuantizeOptions {
  /** llama-quantize file type, e.g. "Q4_K_M" (aliases Q4_K, Q5_K, Q3_K accepted). */
  type: string;
  /** Quantization threads; default: llama.cpp's choice (all hardware threads). */
  threads?: number;
  /** Keep output.weight unquantized (llama-quantize --leave-output-tensor). */
  leaveOutputTensor?: boolean;
  /** Allow quantizing tensors that are already quantized (llama-quantize --allow-requantize). */
  allowRequantize?: boolean;
  /** Use the file type's base type for every tensor, without the k-quant mixes (--pure). */
  pure?: boolean;
  /** ggml type for output.weight / token_embd.weight (--output-tensor-type / --token-embedding-type). */
  outputTensorType?: string;
  tokenEmbeddingType?: string;
  /** Per-tensor type overrides (--tensor-type PATTERN=TYPE). */
  tensorTypes?: TensorTypeOverride[];
  /** A llama-imatrix file (GGUF or legacy .dat). */
  imatrixPath?: string;
}

export interface LlamaQuantizeResult {
  outputPath: string;
  sizeBytes: number;
  type: LlamaQuantizeType;
  /** Output tensors per ggml type, e.g. { Q4_K: 20, Q6_K: 5, F32: 9 }. */
  tensorTypeCounts: Record<string, number>;
  inputFileType: string | undefined;
  imatrixEntries: number;
  libllama: string;
  llamaCppRelease: string | undefined;
  durationNs: bigint;
}

function ggmlTypeId(name: string, flag: string): number {
  const upper = name.toUpperCase();
  if (!isGgmlTypeName(upper)) {
    throw new EdgeforgeError("INVALID_OPTION", `unknown ggml tensor type "${name}" for ${flag}`, {
      hint: `use one of ${Object.keys(ggmlTypeCatalog).join(", ")}`,
      details: { flag, value: name },
    });
  }
  return ggmlTypeCatalog[upper].id;
}

export function resolveLlamaQuantizeType(name: string): LlamaQuantizeType {
  const type = findLlamaQuantizeType(name);
  if (!type) {
    throw new EdgeforgeError("INVALID_OPTION", `unknown quantization type "${name}"`, {
      hint: `llama-quantize types: ${llamaQuantizeTypeNames.join(", ")}`,
      details: { method: name },
    });
  }
  return type;
}

async function samePath(a: string, b: string): Promise<boolean> {
  const real = async (path: string): Promise<string> => realpath(path).catch(() => resolve(path));
  return (await real(a)) === (await real(b));
}

/**
 * Quantize a GGUF with llama.cpp's own llama_model_quantize (run in a child process), writing
 * to a temp file beside `outputPath` that is checked with the GGUF reader and then renamed into
 * place. Nothing is written at `outputPath` when anything fails.
 */
export async function quantizeGgufWithLlamaCpp(inputPath: string, outputPath: string, options: LlamaQuantizeOptions, reporter: Reporter = {}): Promise<LlamaQuantizeResult> {
  const type = resolveLlamaQuantizeType(options.type);
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
    throw new EdgeforgeError("INVALID_OPTION", `threads must be a positive integer, not ${options.threads}`, { hint: "e.g. --threads 4" });
  }
  const tensorTypeOverrides = (options.tensorTypes ?? []).map(({ pattern, type: tensorType }) => {
    try {
      new RegExp(pattern);
    } catch {
      throw new EdgeforgeError("INVALID_OPTION", `tensor pattern "${pattern}" is not a valid regular expression`, { hint: "e.g. --tensor-type ffn_down=q8_0" });
    }
    return { pattern, type: ggmlTypeId(tensorType, "--tensor-type") };
  });
  const input = await readGgufHeader(inputPath, { signal: reporter.signal });
  if (input.tensors.length === 0) throw vocabularyOnlyError(inputPath, "quantize");
  if (await samePath(inputPath, outputPath)) {
    throw new EdgeforgeError("OUTPUT_EQUALS_INPUT", `the output ${outputPath} is the input file`, { hint: "choose another output path (-o)" });
  }
  const imatrix = options.imatrixPath ? await readImportanceMatrix(options.imatrixPath, reporter.signal) : undefined;
  const request: NativeQuantizeRequest = {
    inputPath: resolve(inputPath),
    outputPath: "",
    ftype: type.ftype,
    threads: options.threads ?? 0,
    allowRequantize: options.allowRequantize ?? false,
    quantizeOutputTensor: !(options.leaveOutputTensor ?? false),
    pure: options.pure ?? false,
    outputTensorType: options.outputTensorType ? ggmlTypeId(options.outputTensorType, "--output-tensor-type") : undefined,
    tokenEmbeddingType: options.tokenEmbeddingType ? ggmlTypeId(options.tokenEmbeddingType, "--token-embedding-type") : undefined,
    tensorTypeOverrides,
    imatrix: imatrix?.entries,
    kvOverrides: imatrix
      ? [
          { key: "quantize.imatrix.file", value: basename(options.imatrixPath ?? "") },
          ...(imatrix.datasets[0] ? [{ key: "quantize.imatrix.dataset", value: imatrix.datasets[0] }] : []),
          { key: "quantize.imatrix.entries_count", value: imatrix.entries.length },
          ...(imatrix.chunkCount > 0 ? [{ key: "quantize.imatrix.chunks_count", value: imatrix.chunkCount }] : []),
        ]
      : [],
  };

  const finalPath = resolve(outputPath);
  const tempPath = tempPathFor(finalPath);
  try {
    await mkdir(dirname(finalPath), { recursive: true });
  } catch (error) {
    throw fileError(error, finalPath, "write");
  }
  try {
    const run = await spawnLlamaQuantize({ ...request, outputPath: tempPath }, reporter);
    const output = await readGgufHeader(tempPath, { signal: reporter.signal });
    checkQuantizedOutput(input, output, type);
    await rename(tempPath, finalPath);
    return {
      outputPath: finalPath,
      sizeBytes: (await stat(finalPath)).size,
      type,
      tensorTypeCounts: countTensorTypes(output),
      inputFileType: fileTypeName(input),
      imatrixEntries: imatrix?.entries.length ?? 0,
      libllama: run.libllama,
      llamaCppRelease: run.llamaCppRelease,
      durationNs: run.durationNs,
    };
  } finally {
    await rm(tempPath, { force: true });
  }
}

/** The file type llama.cpp recorded, else (llama2.c conversions record none) the type most of its parameters are stored in. */
function fileTypeName(header: GgufHeader): string | undefined {
  const id = getGgufNumber(header.metadata, "general.file_type");
  if (id !== undefined) return llamaFileTypes.get(id)?.name ?? String(id);
  const mostly = dominantGgufType(header.tensors);
  return mostly === undefined ? undefined : `${mostly} (not recorded in general.file_type: the type of most parameters)`;
}

function countTensorTypes(header: GgufHeader): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const tensor of header.tensors) counts[tensor.type] = (counts[tensor.type] ?? 0) + 1;
  return counts;
}

/** The output must be a readable GGUF with the input's tensors (same names and shapes) and the requested file type. */
function checkQuantizedOutput(input: GgufHeader, output: GgufHeader, type: LlamaQuantizeType): void {
  const problems: string[] = [];
  const fileType = getGgufNumber(output.metadata, "general.file_type");
  if (fileType !== type.ftype) problems.push(`general.file_type is ${fileType}, expected ${type.ftype} (${type.name})`);
  const outputTensors = new Map(output.tensors.map((tensor) => [tensor.name, tensor]));
  if (output.tensors.length !== input.tensors.length) problems.push(`${output.tensors.length} tensors, expected ${input.tensors.length}`);
  for (const tensor of input.tensors) {
    const produced = outputTensors.get(tensor.name);
    if (!produced) problems.push(`tensor ${tensor.name} is missing`);
    else if (produced.dims.join("x") !== tensor.dims.join("x")) problems.push(`tensor ${tensor.name} has dims ${produced.dims.join("x")}, expected ${tensor.dims.join("x")}`);
  }
  if (problems.length > 0) {
    throw new EdgeforgeError("RUNTIME_FAILED", `llama.cpp wrote an output that does not match its input: ${problems.slice(0, 5).join("; ")}`, {
      hint: "this is a llama.cpp or edgeforge bug; please report it with the input model",
      details: { problems },
    });
  }
}
