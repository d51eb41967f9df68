import { basename, resolve } from "node:path";
import { z } from "zod";
import type { Artifact } from "../../core/artifact.js";
import { openByteSource } from "../../core/byte-source.js";
import { EdgeforgeError } from "../../core/errors.js";
import { checkGgufOutput } from "../gguf/check-gguf-output.js";
import { ggufArtifact } from "../gguf/gguf-artifact.js";
import type { GgufValue } from "../../formats/gguf/gguf-metadata.js";
import { readGgufHeader } from "../../formats/gguf/read-gguf.js";
import { writeGguf, type GgufTensorInput } from "../../formats/gguf/write-gguf.js";
import { readLlama2cHeaderFromSource, readLlama2cTensor, type Llama2cHeader, type Llama2cTensor } from "../../formats/llama2c/read-llama2c.js";
import { readLlama2cTokenizer } from "../../formats/llama2c/read-llama2c-tokenizer.js";
import { llamaArchitectureMetadata, type LlamaHyperparameters } from "../hf/llama-hyperparameters.js";
import { encodeGgufTensor } from "../hf/tensor-encodings.js";
import type { Pass, PassContext, PassResult } from "../pass.js";
import { ggufVocabularySize } from "../../formats/gguf/gguf-metadata.js";

export const llama2cConvertGgufOptionsSchema = z
  .object({
    vocabFrom: z.string().min(1).optional().describe("a GGUF whose tokenizer.* metadata (same vocabulary size) is copied"),
    tokenizer: z.string().min(1).optional().describe("llama2.c's tokenizer.bin for this model"),
    outtype: z.enum(["F32", "F16"]).default("F32").describe("tensor type for weight matrices; norms stay F32 (the checkpoint is F32)"),
    name: z.string().optional().describe("general.name in the GGUF (default: the file name)"),
  })
  .refine((options) => (options.vocabFrom === undefined) !== (options.tokenizer === undefined), {
    message: "give exactly one tokenizer source: vocabFrom (a GGUF) or tokenizer (a tokenizer.bin)",
    path: ["vocabFrom"],
  });

export type Llama2cConvertGgufOptions = z.output<typeof llama2cConvertGgufOptionsSchema>;

/** llama2.c trains with these (model.py ModelArgs), and its checkpoints do not record them. */
const llama2cRmsNormEps = 1e-5;
const llama2cRopeTheta = 10000;

/** llama2.c tensor → GGUF name. Matrices keep their row order: llama2.c rotates interleaved pairs, as GGUF's llama layout does. */
const ggufNames: Record<string, string> = {
  token_embedding_table: "token_embd.weight",
  rms_final_weight: "output_norm.weight",
  wcls: "output.weight",
  rms_att_weight: "attn_norm.weight",
  wq: "attn_q.weight",
  wk: "attn_k.weight",
  wv: "attn_v.weight",
  wo: "attn_output.weight",
  rms_ffn_weight: "ffn_norm.weight",
  w1: "ffn_gate.weight",
  w2: "ffn_down.weight",
  w3: "ffn_up.weight",
};

function ggufNameOf(tensor: Llama2cTensor): string | undefined {
  const name = ggufNames[tensor.name];
  if (!name) return undefined;
  return tensor.layer === undefined ? name : `blk.${tensor.layer}.${name}`;
}

function hyperparametersOf(header: Llama2cHeader): LlamaHyperparameters {
  const c = header.config;
  return {
    architecture: "LlamaForCausalLM",
    family: "llama",
    ggufArchitecture: "llama",
    hiddenSize: c.dim,
    layerCount: c.layerCount,
    headCount: c.headCount,
    kvHeadCount: c.kvHeadCount,
    feedForwardSize: c.hiddenDim,
    rmsNormEps: llama2cRmsNormEps,
    ropeTheta: llama2cRopeTheta,
    contextLength: c.seqLen,
    vocabSize: c.vocabSize,
    headDim: header.headDim,
    explicitHeadDim: false,
    tieWordEmbeddings: header.sharedClassifier,
  };
}

async function tokenizerMetadata(options: Llama2cConvertGgufOptions, vocabSize: number, signal?: AbortSignal): Promise<{ entries: Array<[string, GgufValue]>; source: string }> {
  if (options.vocabFrom !== undefined) {
    const header = await readGgufHeader(options.vocabFrom, { signal });
    const entries = [...header.metadata].filter(([key]) => key.startsWith("tokenizer."));
    const tokens = header.metadata.get("tokenizer.ggml.tokens");
    const count = tokens?.type === "array" ? tokens.items.length : 0;
    if (count !== vocabSize) {
      throw new EdgeforgeError("INVALID_OPTION", `${options.vocabFrom} has ${count} tokens; the checkpoint's vocabulary has ${vocabSize}`, {
        hint: "copy the vocabulary from a GGUF of the same model family (same tokenizer), or pass --tokenizer tokenizer.bin",
        details: { vocabFrom: options.vocabFrom, tokens: count, vocabSize },
      });
    }
    return { entries, source: `vocabulary copied from ${basename(options.vocabFrom)}` };
  }
  const path = options.tokenizer as string;
  const tokenizer = await readLlama2cTokenizer(path, vocabSize);
  const u32 = (value: number): GgufValue => ({ type: "uint32", value });
  return {
    entries: [
      ["tokenizer.ggml.model", { type: "string", value: "llama" }],
      ["tokenizer.ggml.tokens", { type: "array", itemType: "string", items: tokenizer.tokens }],
      ["tokenizer.ggml.scores", { type: "array", itemType: "float32", items: tokenizer.scores }],
      ["tokenizer.ggml.token_type", { type: "array", itemType: "int32", items: tokenizer.tokenTypes }],
      ["tokenizer.ggml.unknown_token_id", u32(0)],
      ["tokenizer.ggml.bos_token_id", u32(1)],
      ["tokenizer.ggml.eos_token_id", u32(2)],
    ],
    source: `vocabulary from ${basename(path)}`,
  };
}

export interface Llama2cConversion {
  path: string;
  sizeBytes: number;
  tensorCount: number;
  /** Tokens in the written vocabulary (as the header read back says). */
  vocabularySize: number;
  notes: string[];
}

/** Convert a llama2.c checkpoint (legacy or version 1, float32) to a llama GGUF llama.cpp runs. */
export async function convertLlama2cToGguf(inputPath: string, outputPath: string, options: Llama2cConvertGgufOptions, context: Partial<PassContext> = {}): Promise<Llama2cConversion> {
  const { signal, progress } = context;
  if ([inputPath, options.vocabFrom, options.tokenizer].some((path) => path !== undefined && resolve(path) === resolve(outputPath))) {
    throw new EdgeforgeError("OUTPUT_EQUALS_INPUT", `the output ${outputPath} would overwrite an input`, { hint: "write the GGUF elsewhere (-o)" });
  }
  await using source = await openByteSource(inputPath);
  const header = await readLlama2cHeaderFromSource(source);
  const hp = hyperparametersOf(header);
  const tokenizer = await tokenizerMetadata(options, header.config.vocabSize, signal);
  const metadata: Array<[string, GgufValue]> = [
    ["general.architecture", { type: "string", value: "llama" }],
    ["general.type", { type: "string", value: "model" }],
    ["general.name", { type: "string", value: options.name ?? basename(inputPath).replace(/\.bin$/i, "") }],
    ...llamaArchitectureMetadata(hp),
    ["general.file_type", { type: "uint32", value: options.outtype === "F16" ? 1 : 0 }],
    ["general.quantization_version", { type: "uint32", value: 2 }],
    ...tokenizer.entries,
  ];
  const planned = header.tensors.flatMap((tensor) => {
    const name = ggufNameOf(tensor);
    return name ? [{ tensor, name }] : [];
  });
  const order = (name: string): number => (name === "token_embd.weight" ? -1 : Number(/^blk\.(\d+)\./.exec(name)?.[1] ?? Number.MAX_SAFE_INTEGER));
  planned.sort((a, b) => order(a.name) - order(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let done = 0;
  progress?.start("convert", planned.length);
  const tensors: GgufTensorInput[] = planned.map(({ tensor, name }) => {
    const type = tensor.shape.length === 1 ? "F32" : options.outtype;
    return {
      name,
      dims: [...tensor.shape].reverse(),
      type,
      data: async function* () {
        signal?.throwIfAborted();
        const values = await readLlama2cTensor(source, tensor);
        done += 1;
        progress?.update(done, name);
        yield encodeGgufTensor(values, type).bytes;
      },
    };
  });
  const written = await writeGguf(outputPath, { metadata, tensors }, { signal });
  progress?.finish();
  const check = await readGgufHeader(written.path, { signal });
  const notes = [
    `llama2.c ${header.version === 0 ? "legacy" : "version 1"} checkpoint: dim ${header.config.dim}, ${header.config.layerCount} layers, ${header.config.headCount} heads (${header.config.kvHeadCount} KV), feed-forward ${header.config.hiddenDim}, vocabulary ${header.config.vocabSize}, trained at ${header.config.seqLen} tokens`,
    tokenizer.source,
    header.sharedClassifier ? "classifier shared with the token embedding (no output.weight stored; llama.cpp ties them)" : "separate classifier stored as output.weight",
    `RMSNorm epsilon ${llama2cRmsNormEps} and RoPE base ${llama2cRopeTheta} assumed (llama2.c's fixed values; the checkpoint does not record them)`,
  ];
  return { path: written.path, sizeBytes: check.fileSizeBytes, tensorCount: check.tensors.length, vocabularySize: ggufVocabularySize(check.metadata), notes };
}

export const llama2cConvertGgufPass: Pass<Llama2cConvertGgufOptions> = {
  id: "llama2c.convert.gguf",
  version: "1",
  description: "llama2.c checkpoint (float32, legacy or version 1) + a tokenizer (tokenizer.bin or a GGUF's vocabulary) → llama GGUF F32/F16",
  inputFormat: "llama2c",
  outputFormat: "gguf",
  optionsSchema: llama2cConvertGgufOptionsSchema,
  searchSpace: {},
  defaultOutputName: (inputPath, options) => `${basename(resolve(inputPath)).replace(/\.bin$/i, "")}-${options.outtype}.gguf`,
  async run(input: Artifact, outputPath: string, options: Llama2cConvertGgufOptions, context: PassContext): Promise<PassResult> {
    const started = process.hrtime.bigint();
    const result = await convertLlama2cToGguf(input.path, outputPath, options, context);
    const runNote = await checkGgufOutput(result.path, result.vocabularySize, context);
    return {
      artifact: await ggufArtifact(input, result, { pass: llama2cConvertGgufPass, options }, context.signal),
      log: { counts: { tensors: result.tensorCount }, notes: [...result.notes, runNote] },
      durationMs: Number(process.hrtime.bigint() - started) / 1e6,
    };
  },
};
