import { stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { z } from "zod";
import type { Artifact } from "../../core/artifact.js";
import { EdgeforgeError } from "../../core/errors.js";
import { checkGgufOutput } from "../gguf/check-gguf-output.js";
import { ggufArtifact } from "../gguf/gguf-artifact.js";
import type { GgmlTypeName } from "../../formats/gguf/ggml-types.js";
import type { GgufValue } from "../../formats/gguf/gguf-metadata.js";
import { readGgufHeader } from "../../formats/gguf/read-gguf.js";
import { writeGguf, type GgufTensorInput } from "../../formats/gguf/write-gguf.js";
import { readHfModelFolder, type HfModelFolder } from "../../formats/safetensors/read-hf-folder.js";
import { readSafetensorsTensorData } from "../../formats/safetensors/read-safetensors.js";
import type { Pass, PassContext, PassResult } from "../pass.js";
import { readHfTokenizer } from "./hf-tokenizer-to-gguf.js";
import { llama3RopeFactors, llamaArchitectureMetadata, readLlamaHyperparameters, type LlamaHyperparameters } from "./llama-hyperparameters.js";
import { ggufTensorName, permuteRopeRows, ropeHeadsOf } from "./llama-tensor-names.js";
import { decodeFloats, encodeGgufTensor, type FloatEncoding } from "./tensor-encodings.js";
import { ggufVocabularySize } from "../../formats/gguf/gguf-metadata.js";

export const ggufOuttypes = ["F32", "F16", "BF16", "Q8_0"] as const;
export type GgufOuttype = (typeof ggufOuttypes)[number];

export const hfConvertGgufOptionsSchema = z.object({
  outtype: z.enum(ggufOuttypes).default("F16").describe("tensor type for weight matrices; norms and biases stay F32 (as convert_hf_to_gguf.py)"),
  name: z.string().optional().describe("general.name in the GGUF (default: the folder name)"),
});

export type HfConvertGgufOptions = z.output<typeof hfConvertGgufOptionsSchema>;

/** llama_ftype of each outtype (general.file_type). */
const fileTypes: Record<GgufOuttype, number> = { F32: 0, F16: 1, BF16: 32, Q8_0: 7 };

interface PlannedTensor {
  hfName: string;
  shardPath: string;
  shard: HfModelFolder["shards"][number];
  ggufName: string;
  shape: number[];
  sourceEncoding: FloatEncoding;
  type: "F32" | "F16" | "BF16" | "Q8_0";
}

/** Read the folder and config, refusing what cannot be converted before anything is written. */
export async function readHfLlamaFolder(folder: string, signal?: AbortSignal): Promise<{ model: HfModelFolder; hp: LlamaHyperparameters }> {
  const configPath = join(folder, "config.json");
  let isFolder = false;
  try {
    isFolder = (await stat(folder)).isDirectory();
    await stat(configPath);
  } catch {
    throw new EdgeforgeError(isFolder ? "INVALID_CONFIG" : "FILE_NOT_FOUND", isFolder ? `${folder} has no config.json` : `no such folder: ${folder}`, {
      hint: "pass a Hugging Face model folder holding config.json, *.safetensors and tokenizer.model or tokenizer.json",
      details: { folder },
    });
  }
  const model = await readHfModelFolder(folder, signal);
  const hp = readLlamaHyperparameters(model.config ?? {}, configPath);
  return { model, hp };
}

function planTensors(model: HfModelFolder, hp: LlamaHyperparameters, outtype: GgufOuttype): PlannedTensor[] {
  const planned: PlannedTensor[] = [];
  for (const shard of model.shards) {
    for (const tensor of shard.tensors) {
      const ggufName = ggufTensorName(tensor.name, model.path);
      if (!ggufName) continue;
      if (tensor.dtype !== "F32" && tensor.dtype !== "F16" && tensor.dtype !== "BF16") {
        throw new EdgeforgeError("UNSUPPORTED_FEATURE", `${shard.path}: tensor "${tensor.name}" is ${tensor.dtype}; the converter reads F32, F16 and BF16 checkpoints`, {
          hint: "dequantize the checkpoint first (e.g. load and save it in float16 with transformers)",
          details: { tensor: tensor.name, dtype: tensor.dtype },
        });
      }
      const isVector = tensor.shape.length <= 1 || ggufName.endsWith("_norm.weight");
      const rowLength = tensor.shape.at(-1) ?? 1;
      const type = isVector ? "F32" : outtype === "Q8_0" && rowLength % 32 !== 0 ? "F16" : outtype;
      planned.push({ hfName: tensor.name, shardPath: shard.path, shard, ggufName, shape: tensor.shape, sourceEncoding: tensor.dtype, type });
    }
  }
  const names = new Set(planned.map((tensor) => tensor.ggufName));
  const required = ["token_embd.weight", "output_norm.weight"];
  for (let layer = 0; layer < hp.layerCount; layer += 1) {
    for (const part of ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"]) required.push(`blk.${layer}.${part}.weight`);
  }
  const missing = required.filter((name) => !names.has(name));
  if (missing.length > 0) {
    throw new EdgeforgeError("CORRUPT_MODEL", `${model.path} lacks ${missing.length} weight tensors the ${hp.architecture} architecture needs, e.g. ${missing.slice(0, 3).join(", ")}`, {
      hint: "the checkpoint is incomplete or its config.json does not match its weights",
      details: { missing: missing.slice(0, 20) },
    });
  }
  const order = (name: string): [number, string] => {
    const layer = /^blk\.(\d+)\./.exec(name)?.[1];
    return name === "token_embd.weight" ? [-1, name] : layer === undefined ? [Number.MAX_SAFE_INTEGER, name] : [Number(layer), name];
  };
  return planned.sort((a, b) => {
    const [la, na] = order(a.ggufName);
    const [lb, nb] = order(b.ggufName);
    return la - lb || (na < nb ? -1 : na > nb ? 1 : 0);
  });
}

/** Convert a Hugging Face llama/mistral/qwen2 folder to a GGUF file llama.cpp loads. */
export async function convertHfToGguf(folder: string, outputPath: string, options: HfConvertGgufOptions, context: Partial<PassContext> = {}): Promise<{ path: string; sizeBytes: number; tensorCount: number; vocabularySize: number; clampedCount: number; tokenizerKind: string }> {
  const { signal, progress } = context;
  const { model, hp } = await readHfLlamaFolder(folder, signal);
  const tokenizer = await readHfTokenizer(folder, hp, signal);
  const planned = planTensors(model, hp, options.outtype);
  const inputs = [join(folder, "config.json"), ...model.shards.map((shard) => shard.path)].map((path) => resolve(path));
  if (inputs.includes(resolve(outputPath))) {
    throw new EdgeforgeError("OUTPUT_EQUALS_INPUT", `the output ${outputPath} would overwrite one of the input's files`, { hint: "write the GGUF elsewhere (-o)" });
  }
  const metadata: Array<[string, GgufValue]> = [
    ["general.architecture", { type: "string", value: hp.ggufArchitecture }],
    ["general.type", { type: "string", value: "model" }],
    ["general.name", { type: "string", value: options.name ?? basename(resolve(folder)) }],
    ...llamaArchitectureMetadata(hp),
    ["general.file_type", { type: "uint32", value: fileTypes[options.outtype] }],
    ["general.quantization_version", { type: "uint32", value: 2 }],
    ...tokenizer.metadata,
  ];
  let clampedCount = 0;
  let done = 0;
  progress?.start("convert", planned.length);
  const tensors: GgufTensorInput[] = planned.map((tensor) => ({
    name: tensor.ggufName,
    dims: [...tensor.shape].reverse(),
    type: tensor.type as GgmlTypeName,
    data: async function* () {
      signal?.throwIfAborted();
      let values = decodeFloats(await readSafetensorsTensorData(tensor.shardPath, tensor.shard, tensor.hfName, { signal }), tensor.sourceEncoding);
      const heads = ropeHeadsOf(tensor.ggufName, hp);
      if (heads !== undefined) values = permuteRopeRows(values, heads, tensor.shape.length > 1 ? (tensor.shape[1] as number) : 1, true);
      const encoded = encodeGgufTensor(values, tensor.type);
      clampedCount += encoded.clampedCount;
      done += 1;
      progress?.update(done, tensor.ggufName);
      yield encoded.bytes;
    },
  }));
  const ropeFactors = llama3RopeFactors(hp);
  if (ropeFactors) tensors.push({ name: "rope_freqs.weight", dims: [ropeFactors.length], type: "F32", data: new Uint8Array(ropeFactors.buffer) });
  const written = await writeGguf(outputPath, { metadata, tensors }, { signal });
  progress?.finish();
  const check = await readGgufHeader(outputPath, { signal });
  return { path: written.path, sizeBytes: check.fileSizeBytes, tensorCount: check.tensors.length, vocabularySize: ggufVocabularySize(check.metadata), clampedCount, tokenizerKind: tokenizer.kind };
}

export const hfConvertGgufPass: Pass<HfConvertGgufOptions> = {
  id: "hf.convert.gguf",
  version: "1",
  description: "Hugging Face llama/mistral/qwen2 folder (safetensors + config.json + tokenizer) → GGUF F32/F16/BF16/Q8_0 with tokenizer and chat template",
  inputFormat: "safetensors",
  outputFormat: "gguf",
  optionsSchema: hfConvertGgufOptionsSchema,
  searchSpace: { outtype: ["F16", "Q8_0"] },
  defaultOutputName: (inputPath, options) => `${basename(resolve(inputPath))}-${options.outtype}.gguf`,
  async run(input: Artifact, outputPath: string, options: HfConvertGgufOptions, context: PassContext): Promise<PassResult> {
    const started = process.hrtime.bigint();
    const result = await convertHfToGguf(input.path, outputPath, options, context);
    const notes = [`tokenizer: ${result.tokenizerKind}`];
    if (result.clampedCount > 0) notes.push(`${result.clampedCount} values beyond the float16 range were clamped to ±65504`);
    notes.push(await checkGgufOutput(result.path, result.vocabularySize, context));
    return {
      artifact: await ggufArtifact(input, result, { pass: hfConvertGgufPass, options, inputIdentity: join(input.path, "config.json") }, context.signal),
      log: { counts: { tensors: result.tensorCount, valuesClamped: result.clampedCount }, notes },
      durationMs: Number(process.hrtime.bigint() - started) / 1e6,
    };
  },
};
