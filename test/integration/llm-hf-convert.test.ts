import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { convertModel, quantizeGguf } from "../../src/api/llm.js";
import { EdgeforgeError } from "../../src/core/errors.js";
import { getGgufString } from "../../src/formats/gguf/gguf-metadata.js";
import { readGgufHeader } from "../../src/formats/gguf/read-gguf.js";
import { readGgufAsHf, writeGgufAsHfFolder, type HfLayoutTensor } from "../../src/passes/hf/export-gguf-as-hf.js";
import { readLlamaHyperparameters } from "../../src/passes/hf/llama-hyperparameters.js";
import { readHfModelFolder } from "../../src/formats/safetensors/read-hf-folder.js";
import { readSafetensorsTensorData } from "../../src/formats/safetensors/read-safetensors.js";
import { decodeFloats } from "../../src/passes/hf/tensor-encodings.js";
import { heldoutText, tinyLlamaF16 } from "../fixtures/llm-models.js";
import { differingGgufTensors, ggufLogits, ggufTokens, greedyContinuation, maxAbsDifference, patchConfig } from "../fixtures/llm-test-helpers.js";
import { loadReferenceLlama, referenceForward } from "../fixtures/reference-llama-forward.js";
import { writeSyntheticQwen2 } from "../fixtures/synthetic-qwen2.js";
import { makeTempDir } from "../fixtures/temp-dir.js";

async function readHfFolderAsLayout(folder: string): Promise<HfLayoutTensor[]> {
  const model = await readHfModelFolder(folder);
  return model.shards.flatMap((shard) =>
    shard.tensors.map((tensor) => ({
      name: tensor.name,
      shape: tensor.shape,
      sourceType: "F32" as const,
      values: async () => decodeFloats(await readSafetensorsTensorData(shard.path, shard, tensor.name), tensor.dtype as "F32"),
    })),
  );
}

let dir: string;
let spmFolder: string;
let fastFolder: string;
let sample: string;
let sampleTokens: Int32Array;
let originalLogits: Float32Array;

async function expectNothingWritten(run: () => Promise<unknown>, code: string, folder: string): Promise<void> {
  const before = await readdir(folder);
  const error = await run().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(EdgeforgeError.isInstance(error) ? error.code : error).toBe(code);
  expect(await readdir(folder)).toEqual(before);
}

beforeAll(async () => {
  dir = await makeTempDir("hf-");
  // The HF folders are built FROM the real GGUF (inverse Q/K permutation, SentencePiece protobuf).
  spmFolder = join(dir, "tiny-llama-hf");
  await writeGgufAsHfFolder(await readGgufAsHf(tinyLlamaF16), spmFolder);
  fastFolder = join(dir, "tiny-llama-hf-fast");
  await writeGgufAsHfFolder(await readGgufAsHf(tinyLlamaF16, { tokenizerJson: true }), fastFolder);
  await rm(join(fastFolder, "tokenizer.model"));
  sample = (await readFile(heldoutText, "utf8")).slice(0, 20_000);
  sampleTokens = (await ggufTokens(tinyLlamaF16, sample)).subarray(0, 64);
  originalLogits = await ggufLogits(tinyLlamaF16, sampleTokens);
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("hf.convert.gguf on a llama folder exported from tiny-fortunes", () => {
  it("F16: every tensor is byte-identical to the original GGUF, and the metadata matches", async () => {
    const out = join(dir, "f16.gguf");
    const result = await convertModel(spmFolder, { to: "gguf", outtype: "F16", output: out });
    expect(result.artifact.format).toBe("gguf");
    // The pass ran its output once in llama.cpp before reporting success.
    expect(result.log.notes.at(-1)).toMatch(/^output loaded and run once in llama\.cpp .*: perplexity [\d.]+ on 30 tokens/);
    expect(await differingGgufTensors(tinyLlamaF16, out)).toEqual([]);
    const [original, converted] = await Promise.all([readGgufHeader(tinyLlamaF16), readGgufHeader(out)]);
    const added = [...converted.metadata.keys()].filter((key) => !original.metadata.has(key));
    const missing = [...original.metadata.keys()].filter((key) => !converted.metadata.has(key));
    expect(missing).toEqual([]);
    expect(added.sort()).toEqual(["general.quantization_version", "general.type"]);
    expect(getGgufString(converted.metadata, "tokenizer.ggml.model")).toBe("llama");
    // Same weights and tokenizer: identical logits (tolerance 1e-5 for any nondeterminism) and the same greedy text.
    expect(maxAbsDifference(await ggufLogits(out, sampleTokens), originalLogits)).toBeLessThanOrEqual(1e-5);
    expect(Array.from(await greedyContinuation(out, "The meaning of life is", 12))).toEqual(Array.from(await greedyContinuation(tinyLlamaF16, "The meaning of life is", 12)));
  });

  it("Q8_0: the TypeScript block packing equals llama.cpp's quantize_row_q8_0 bit for bit, and the model runs", async () => {
    const out = join(dir, "q8_0.gguf");
    await convertModel(spmFolder, { to: "gguf", outtype: "Q8_0", output: out });
    const reference = (await quantizeGguf(tinyLlamaF16, join(dir, "llama-quantize-q8_0.gguf"), { method: "Q8_0", threads: 2 })).artifact.path;
    expect(await differingGgufTensors(reference, out)).toEqual([]);
    // 8-bit weights: logits stay within 0.25 of the F16 model's on this text (observed ≈ 0.05).
    expect(maxAbsDifference(await ggufLogits(out, sampleTokens), originalLogits)).toBeLessThan(0.25);
  });

  it("F32 and BF16 outputs load; F32 logits match the F16 original within 0.02", async () => {
    const f32 = join(dir, "f32.gguf");
    const bf16 = join(dir, "bf16.gguf");
    await convertModel(spmFolder, { to: "gguf", outtype: "F32", output: f32 });
    await convertModel(spmFolder, { to: "gguf", outtype: "BF16", output: bf16 });
    expect((await readGgufHeader(f32)).tensors.find((t) => t.name === "blk.0.attn_q.weight")?.type).toBe("F32");
    expect((await readGgufHeader(bf16)).tensors.find((t) => t.name === "blk.0.attn_q.weight")?.type).toBe("BF16");
    // Same values, but llama.cpp rounds activations to F16 for F16 matmuls and not for F32 ones (observed 0.0044).
    expect(maxAbsDifference(await ggufLogits(f32, sampleTokens), originalLogits)).toBeLessThan(0.02);
    expect(maxAbsDifference(await ggufLogits(bf16, sampleTokens), originalLogits)).toBeLessThan(0.5);
  });

  it("tokenizer.json (fast BPE with byte fallback, no tokenizer.model) tokenizes exactly like the original vocabulary", async () => {
    const out = join(dir, "fast.gguf");
    await convertModel(fastFolder, { to: "gguf", outtype: "F16", output: out });
    expect(Array.from(await ggufTokens(out, sample))).toEqual(Array.from(await ggufTokens(tinyLlamaF16, sample)));
    expect(maxAbsDifference(await ggufLogits(out, sampleTokens), originalLogits)).toBeLessThanOrEqual(1e-5);
  });

  it("a Mistral-labelled folder converts to llama.cpp's llama architecture", async () => {
    const mistral = join(dir, "tiny-mistral-hf");
    await writeGgufAsHfFolder(await readGgufAsHf(tinyLlamaF16), mistral);
    await patchConfig(mistral, { architectures: ["MistralForCausalLM"], model_type: "mistral", sliding_window: null });
    const out = join(dir, "mistral.gguf");
    await convertModel(mistral, { to: "gguf", outtype: "F16", output: out });
    expect(getGgufString((await readGgufHeader(out)).metadata, "general.architecture")).toBe("llama");
    expect(maxAbsDifference(await ggufLogits(out, sampleTokens), originalLogits)).toBeLessThanOrEqual(1e-5);
  });
});

describe("hf.convert.gguf bad input: clear errors, nothing written", () => {
  it("refuses a folder without config.json", async () => {
    const broken = join(dir, "no-config");
    await writeGgufAsHfFolder(await readGgufAsHf(tinyLlamaF16), broken);
    await rm(join(broken, "config.json"));
    await expectNothingWritten(() => convertModel(broken, { to: "gguf", outtype: "F16", output: join(dir, "out", "x.gguf") }), "INVALID_CONFIG", dir);
  });

  it("refuses a tokenizer it does not support", async () => {
    const broken = join(dir, "wordpiece");
    await writeGgufAsHfFolder(await readGgufAsHf(tinyLlamaF16), broken);
    await rm(join(broken, "tokenizer.model"));
    await writeFile(join(broken, "tokenizer.json"), JSON.stringify({ model: { type: "WordPiece", vocab: { "[UNK]": 0 } } }));
    await expectNothingWritten(() => convertModel(broken, { to: "gguf", outtype: "F16", output: join(dir, "wp.gguf") }), "UNSUPPORTED_FEATURE", dir);
  });

  it("refuses an architecture outside the llama family", async () => {
    const other = join(dir, "gpt2-like");
    await writeGgufAsHfFolder(await readGgufAsHf(tinyLlamaF16), other);
    await patchConfig(other, { architectures: ["GPT2LMHeadModel"], model_type: "gpt2" });
    await expectNothingWritten(() => convertModel(other, { to: "gguf", outtype: "F16", output: join(dir, "g.gguf") }), "UNSUPPORTED_FEATURE", dir);
  });

  it("refuses an unknown outtype", async () => {
    await expect(convertModel(spmFolder, { to: "gguf", outtype: "Q4_K_M" as never, output: join(dir, "bad.gguf") })).rejects.toMatchObject({ code: "INVALID_OPTION" });
  });
});

describe("hf.convert.gguf on a Qwen2 checkpoint with a byte-level BPE tokenizer", () => {
  it("converts names, biases and GQA without permutation; llama.cpp's logits match the reference forward pass", async () => {
    const folder = join(dir, "qwen2-synthetic");
    await writeSyntheticQwen2(folder);
    const out = join(dir, "qwen2.gguf");
    await convertModel(folder, { to: "gguf", outtype: "F32", output: out });
    const header = await readGgufHeader(out);
    expect(getGgufString(header.metadata, "general.architecture")).toBe("qwen2");
    expect(getGgufString(header.metadata, "tokenizer.ggml.model")).toBe("gpt2");
    expect(getGgufString(header.metadata, "tokenizer.ggml.pre")).toBe("qwen2");
    expect(getGgufString(header.metadata, "tokenizer.chat_template")).toContain("<|im_start|>");
    expect(header.tensors.some((tensor) => tensor.name === "blk.0.attn_q.bias")).toBe(true);
    expect(header.tensors.some((tensor) => tensor.name === "output.weight")).toBe(false);
    // The byte-level merges apply: "hello world" is two tokens (hello, Ġworld).
    const tokens = await ggufTokens(out, "hello world");
    expect(tokens.length).toBe(2);
    const hfTensors = await readHfFolderAsLayout(folder);
    const reference = await loadReferenceLlama(readLlamaHyperparameters(JSON.parse(await readFile(join(folder, "config.json"), "utf8")) as Record<string, unknown>, folder), hfTensors);
    const probe = Int32Array.from([104, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100, 33]);
    expect(maxAbsDifference(await ggufLogits(out, probe), referenceForward(reference, probe, { withLogits: true }))).toBeLessThan(1e-3);
  });

  it("refuses a byte-level tokenizer whose pre-tokenizer llama.cpp does not know", async () => {
    const folder = join(dir, "qwen2-unknown-pre");
    await writeSyntheticQwen2(folder, String.raw`\p{L}+|\s+`);
    await expectNothingWritten(() => convertModel(folder, { to: "gguf", outtype: "F16", output: join(dir, "unknown-pre.gguf") }), "UNSUPPORTED_FEATURE", dir);
  });
});
