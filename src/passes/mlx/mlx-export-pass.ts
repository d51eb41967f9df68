import { copyFile, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { z } from "zod";
import type { Artifact } from "../../core/artifact.js";
import { tempPathFor, writeFileAtomic } from "../../core/atomic-write.js";
import { EdgeforgeError, fileError } from "../../core/errors.js";
import { hashFileSha256 } from "../../core/hashing.js";
import type { Reporter } from "../../core/logger.js";
import { readSafetensorsTensorData, type SafetensorsDtype } from "../../formats/safetensors/read-safetensors.js";
import { writeSafetensorsFile, type SafetensorsTensorInput } from "../../formats/safetensors/write-safetensors-file.js";
import { readGgufAsHf, type HfLayoutTensor } from "../hf/export-gguf-as-hf.js";
import { readHfLlamaFolder } from "../hf/hf-convert-gguf-pass.js";
import { llamaConfigJson } from "../hf/llama-hyperparameters.js";
import { ggufTensorName } from "../hf/llama-tensor-names.js";
import { decodeFloats, encodeGgufTensor } from "../hf/tensor-encodings.js";
import type { Pass, PassContext, PassResult } from "../pass.js";
import { mlxBits, mlxGroupSizes, quantizeMlxAffine, type MlxQuantizedTensor, type MlxScaleDtype } from "./mlx-affine-quantize.js";
import { pathExists } from "../../core/path-exists.js";

export const mlxExportOptionsSchema = z.object({
  bits: z.union([z.literal(4), z.literal(8)]).default(4).describe(`bits per quantized weight (${mlxBits.join(" or ")})`),
  groupSize: z.union([z.literal(32), z.literal(64), z.literal(128)]).default(64).describe(`weights sharing one scale and bias (${mlxGroupSizes.join(", ")})`),
  dtype: z.enum(["F16", "BF16", "F32"]).optional().describe("dtype of scales, biases and unquantized tensors (default: BF16 for bfloat16 sources, else F16, as mlx_lm.convert)"),
});

export type MlxExportOptions = z.output<typeof mlxExportOptionsSchema>;

/** Files beside the weights that MLX loaders read (copied from a Hugging Face source). */
const sideFiles = ["tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "generation_config.json", "chat_template.jinja", "chat_template.json"];

interface MlxSource {
  tensors: HfLayoutTensor[];
  config: Record<string, unknown>;
  sourceDtype: MlxScaleDtype;
  writeSideFiles(folder: string): Promise<void>;
}



async function hfFolderSource(folder: string, signal?: AbortSignal): Promise<MlxSource> {
  const { model } = await readHfLlamaFolder(folder, signal);
  const present = (await readdir(folder)).filter((name) => sideFiles.includes(name));
  if (!present.includes("tokenizer.json") && !present.includes("tokenizer.model")) {
    throw new EdgeforgeError("UNSUPPORTED_FEATURE", `${folder} has no tokenizer.json or tokenizer.model`, { hint: "an MLX model needs its tokenizer; add the tokenizer files", details: { folder } });
  }
  const tensors: HfLayoutTensor[] = [];
  const dtypes = new Set<string>();
  for (const shard of model.shards) {
    for (const tensor of shard.tensors) {
      if (!ggufTensorName(tensor.name, folder)) continue;
      if (tensor.dtype !== "F32" && tensor.dtype !== "F16" && tensor.dtype !== "BF16") {
        throw new EdgeforgeError("UNSUPPORTED_FEATURE", `${shard.path}: tensor "${tensor.name}" is ${tensor.dtype}; MLX export reads F32, F16 and BF16 checkpoints`, {
          hint: "start from the unquantized checkpoint",
        });
      }
      const encoding = tensor.dtype;
      dtypes.add(encoding);
      tensors.push({
        name: tensor.name,
        shape: tensor.shape,
        sourceType: encoding,
        values: async (s) => decodeFloats(await readSafetensorsTensorData(shard.path, shard, tensor.name, { signal: s }), encoding),
      });
    }
  }
  return {
    tensors,
    config: model.config ?? {},
    sourceDtype: dtypes.has("BF16") ? "BF16" : dtypes.has("F16") ? "F16" : "F32",
    async writeSideFiles(out) {
      for (const name of present) await copyFile(join(folder, name), join(out, name));
    },
  };
}

async function ggufSource(path: string, signal?: AbortSignal): Promise<MlxSource> {
  const exported = await readGgufAsHf(path, { tokenizerJson: true, signal });
  const types = new Set(exported.tensors.map((tensor) => tensor.sourceType));
  const sourceDtype: MlxScaleDtype = types.has("BF16") ? "BF16" : types.has("F16") ? "F16" : "F32";
  return {
    tensors: exported.tensors,
    config: llamaConfigJson(exported.hp, sourceDtype === "BF16" ? "bfloat16" : sourceDtype === "F16" ? "float16" : "float32"),
    sourceDtype,
    async writeSideFiles(out) {
      for (const file of exported.tokenizer.files) await writeFileAtomic(join(out, file.name), file.bytes);
    },
  };
}

export interface MlxExportResult {
  folder: string;
  files: string[];
  sizeBytes: number;
  quantizedTensors: number;
  keptTensors: number;
  /** One line per matrix MLX cannot quantize (kept in float): name, dtype, reason. */
  keptMatrices: string[];
  /** Stored bits per quantized weight, scales and biases included: bits + 2·(scale bits)/groupSize. */
  bitsPerQuantizedWeight: number;
}

const dtypeBits: Record<MlxScaleDtype, number> = { F16: 16, BF16: 16, F32: 32 };

/**
 * The narrowest rows MLX quantizes (the MLX that node-mlx 0.0.7 bundles refuses narrower ones:
 * "we support >= 256 for 4 bits and >= 128 for 8 bits").
 */
export const mlxMinimumRowWidth: Readonly<Record<number, number>> = Object.freeze({ 4: 256, 8: 128 });

/**
 * Why a tensor stays unquantized, or undefined when it is quantized. Linear and embedding weights
 * (2-D) are quantized, as mlx_lm's default predicate does, when MLX can: rows a multiple of the
 * group size and at least MLX's minimum width. mlx_lm quantizes exactly the layers whose
 * `.scales` are present, so a float matrix still loads.
 */
export function mlxKeepReason(tensor: Pick<HfLayoutTensor, "name" | "shape">, groupSize: number, bits: number): string | undefined {
  if (tensor.shape.length !== 2 || !tensor.name.endsWith(".weight")) return "not a matrix";
  const width = tensor.shape[1] as number;
  if (width % groupSize !== 0) return `rows of ${width} values are not a multiple of the group size ${groupSize}`;
  const minimum = mlxMinimumRowWidth[bits] ?? 0;
  if (width < minimum) return `rows of ${width} values are below MLX's minimum of ${minimum} for ${bits}-bit`;
  return undefined;
}

const torchDtypes: Record<MlxScaleDtype, string> = { F16: "float16", BF16: "bfloat16", F32: "float32" };

/** A HF folder or a llama GGUF (F16/F32) → an MLX-format folder with affine-quantized weights. */
export async function exportMlx(inputPath: string, inputFormat: "gguf" | "safetensors", outputFolder: string, options: MlxExportOptions, reporter: Reporter = {}): Promise<MlxExportResult> {
  const { signal, progress } = reporter;
  const target = resolve(outputFolder);
  if (target === resolve(inputPath) || resolve(inputPath).startsWith(`${target}/`)) {
    throw new EdgeforgeError("OUTPUT_EQUALS_INPUT", `the output folder ${outputFolder} holds the input`, { hint: "choose a new output folder (-o)" });
  }
  if ((await pathExists(target)) && (await readdir(target)).length > 0) {
    throw new EdgeforgeError("FILE_WRITE_FAILED", `the output folder ${outputFolder} exists and is not empty`, { hint: "choose a new output folder, or remove the old one", details: { path: target } });
  }
  const source = inputFormat === "gguf" ? await ggufSource(inputPath, signal) : await hfFolderSource(inputPath, signal);
  const dtype = options.dtype ?? (source.sourceDtype === "BF16" ? "BF16" : "F16");
  const { bits, groupSize } = options;
  const entries: SafetensorsTensorInput[] = [];
  const pending = new Map<string, Promise<MlxQuantizedTensor>>();
  let quantizedTensors = 0;
  let done = 0;
  progress?.start("mlx export", source.tensors.length);
  const step = (name: string): void => {
    done += 1;
    progress?.update(done, name);
  };
  const keptMatrices: string[] = [];
  for (const tensor of source.tensors) {
    const keepReason = mlxKeepReason(tensor, groupSize, bits);
    if (keepReason !== undefined) {
      if (keepReason !== "not a matrix") keptMatrices.push(`${tensor.name} [${tensor.shape.join(", ")}] kept in ${dtype}: ${keepReason}`);
      entries.push({
        name: tensor.name,
        dtype: dtype as SafetensorsDtype,
        shape: tensor.shape,
        data: async () => {
          step(tensor.name);
          return encodeGgufTensor(await tensor.values(signal), dtype).bytes;
        },
      });
      continue;
    }
    quantizedTensors += 1;
    const [rows, cols] = tensor.shape as [number, number];
    const base = tensor.name.slice(0, -".weight".length);
    const quantized = (): Promise<MlxQuantizedTensor> => {
      let result = pending.get(base);
      if (!result) {
        result = tensor.values(signal).then((values) => quantizeMlxAffine(values, rows, cols, groupSize, bits, dtype));
        pending.set(base, result);
      }
      return result;
    };
    entries.push(
      { name: tensor.name, dtype: "U32", shape: [rows, (cols * bits) / 32], data: async () => new Uint8Array((await quantized()).packed.buffer) },
      { name: `${base}.scales`, dtype: dtype as SafetensorsDtype, shape: [rows, cols / groupSize], data: async () => encodeGgufTensor((await quantized()).scales, dtype).bytes },
      {
        name: `${base}.biases`,
        dtype: dtype as SafetensorsDtype,
        shape: [rows, cols / groupSize],
        data: async () => {
          const { biases } = await quantized();
          pending.delete(base);
          step(tensor.name);
          return encodeGgufTensor(biases, dtype).bytes;
        },
      },
    );
  }

  const temp = tempPathFor(target);
  try {
    await mkdir(temp, { recursive: true });
    const weights = await writeSafetensorsFile(join(temp, "model.safetensors"), entries, { format: "mlx" }, signal);
    const quantization = { group_size: groupSize, bits, mode: "affine" };
    // torch_dtype names what the folder stores in float (kept tensors, scales, biases), not the source's dtype.
    const config = { ...source.config, torch_dtype: torchDtypes[dtype], quantization, quantization_config: quantization };
    await writeFileAtomic(join(temp, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
    const index = {
      metadata: { total_size: weights.sizeBytes - 8 - weights.headerSizeBytes, total_parameters: source.tensors.reduce((sum, t) => sum + t.shape.reduce((p, d) => p * d, 1), 0) },
      weight_map: Object.fromEntries(entries.map((entry) => [entry.name, "model.safetensors"] as const).sort(([a], [b]) => (a < b ? -1 : 1))),
    };
    await writeFileAtomic(join(temp, "model.safetensors.index.json"), `${JSON.stringify(index, null, 4)}\n`);
    await source.writeSideFiles(temp);
    await rm(target, { recursive: true, force: true });
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw EdgeforgeError.isInstance(error) ? error : fileError(error, target, "write");
  }
  progress?.finish();
  const files = (await readdir(target)).sort().map((name) => join(target, name));
  let sizeBytes = 0;
  for (const file of files) sizeBytes += (await stat(file)).size;
  return {
    folder: target,
    files,
    sizeBytes,
    quantizedTensors,
    keptTensors: source.tensors.length - quantizedTensors,
    keptMatrices,
    bitsPerQuantizedWeight: bits + (2 * dtypeBits[dtype]) / groupSize,
  };
}

export const mlxExportPass: Pass<MlxExportOptions> = {
  id: "mlx.export",
  version: "2",
  description: "MLX affine quantization (4/8 bits, group 32/64/128, uint32 packing, scales and biases per group) from a Hugging Face folder or an F16/F32 GGUF",
  // Also accepts GGUF artifacts (llama/qwen2 F16/F32), read as a Hugging Face checkpoint.
  inputFormat: "safetensors",
  outputFormat: "mlx",
  optionsSchema: mlxExportOptionsSchema,
  searchSpace: { bits: [4, 8], groupSize: [64] },
  defaultOutputName: (inputPath, options) => `${basename(resolve(inputPath)).replace(/\.gguf$/i, "")}-mlx-${options.bits}bit-g${options.groupSize}`,
  async run(input: Artifact, outputPath: string, options: MlxExportOptions, context: PassContext): Promise<PassResult> {
    const started = process.hrtime.bigint();
    if (input.format !== "gguf" && input.format !== "safetensors") {
      throw new EdgeforgeError("UNKNOWN_FORMAT", `${input.path} is ${input.format}; mlx.export reads Hugging Face folders and GGUF files`, { hint: "pass a HF folder or an F16/F32 .gguf" });
    }
    const result = await exportMlx(input.path, input.format, outputPath, options, context);
    const inputSha256 = input.sha256 ?? (await hashFileSha256(input.format === "gguf" ? input.path : join(input.path, "config.json"), context.signal));
    return {
      artifact: {
        format: "mlx",
        path: result.folder,
        files: result.files,
        sizeBytes: result.sizeBytes,
        lineage: [...input.lineage, { passId: mlxExportPass.id, passVersion: mlxExportPass.version, options, inputSha256 }],
      },
      log: {
        counts: { quantizedTensors: result.quantizedTensors, keptTensors: result.keptTensors, keptMatrices: result.keptMatrices.length },
        notes: [`${result.bitsPerQuantizedWeight} stored bits per quantized weight (scales and biases included)`, ...result.keptMatrices],
      },
      durationMs: Number(process.hrtime.bigint() - started) / 1e6,
    };
  },
};
