import { copyFile, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspect } from "../../src/api/inspect.js";
import { compareLlms, convertModel, type LlmEvaluation } from "../../src/api/llm.js";
import { optimize } from "../../src/api/optimize.js";
import { EdgeforgeError } from "../../src/core/errors.js";
import { detectModelFormat } from "../../src/formats/detect-format.js";
import { readGgufHeader } from "../../src/formats/gguf/read-gguf.js";
import { readGgufTensorData } from "../../src/formats/gguf/read-gguf-tensor-data.js";
import type { Llama2cInspection } from "../../src/formats/llama2c/inspect-llama2c.js";
import { llmTestThreads, stories260KCompletion, stories260KGguf, stories260KLlama2c, tinyLlamaF16, tinyStoriesText } from "../fixtures/llm-models.js";
import { greedyContinuation } from "../fixtures/llm-test-helpers.js";
import { legacyToVersion1, piecesToText, writeLlama2cFromGguf, writeLlama2cTokenizer } from "../fixtures/llama2c-files.js";
import { makeTempDir } from "../fixtures/temp-dir.js";

let dir: string;
let standard: string;
let converted: string;
let convertedRunNote: string;
let quality: LlmEvaluation;

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return EdgeforgeError.isInstance(error) ? error.code : String(error);
  }
}

beforeAll(async () => {
  dir = await makeTempDir("llama2c-");
  standard = join(dir, "stories260K.bin");
  await writeLlama2cFromGguf(stories260KGguf, { seqLen: 512 }, standard);
  const conversion = await convertModel(standard, { to: "gguf", vocabFrom: stories260KGguf, output: join(dir, "stories260K-F32.gguf") });
  converted = conversion.artifact.path;
  convertedRunNote = conversion.log.notes.at(-1) ?? "";
  // Same tokens for both models, 128-token chunks: 20 chunks × 63 scored predictions.
  const [, candidate] = await compareLlms({ basePath: stories260KGguf, modelPaths: [converted], textPath: tinyStoriesText, contextSize: 128, maxChunks: 20, threads: llmTestThreads, promptTokens: 0, generateTokens: 0 });
  quality = candidate as LlmEvaluation;
}, 120_000);

afterAll(async () => rm(dir, { recursive: true, force: true }));

describe("llama2.c checkpoints", () => {
  it("inspect recognises the legacy layout and describes it from the header alone", async () => {
    expect(await detectModelFormat(stories260KLlama2c)).toEqual({ format: "llama2c", layout: "file", sizeBytes: (await stat(stories260KLlama2c)).size });
    const model = (await inspect(stories260KLlama2c)).model as Llama2cInspection;
    expect(model.format).toBe("llama2c");
    expect(model.config).toEqual({ dim: 64, hiddenDim: 172, layerCount: 5, headCount: 8, kvHeadCount: 4, vocabSize: 512, seqLen: 512 });
    expect(model.sharedClassifier).toBe(true);
    // MODELS.md: 264,128 stored F32 values, of which 2 × 512 × 4 are the RoPE tables.
    expect(model.parameterCount + model.ropeTableValues).toBe(264_128);
    expect(model.ropeTableValues).toBe(4096);
  });

  it("the shared stories260K.llama2c.bin is llama2.c's checkpoint with its matrices rearranged in place", async () => {
    // Header, embedding and norms are byte-identical to a checkpoint in export.py's layout; every
    // matrix holds the same values in another order (wq and wo exactly transposed): the RISC-V
    // fork it comes from transposes weights in place (updateWeight.c), so it is not llama2.c's layout.
    const [shared, exported] = [await readFile(stories260KLlama2c), await readFile(standard)];
    const sharedModel = (await inspect(stories260KLlama2c)).model as Llama2cInspection;
    const region = (file: Buffer, name: string, layer = 0): Buffer => {
      const t = sharedModel.tensors.find((x) => x.name === name && (x.layer ?? 0) === layer) as Llama2cInspection["tensors"][number];
      return file.subarray(t.offset, t.offset + t.elementCount * 4);
    };
    expect(shared.subarray(0, 28).equals(exported.subarray(0, 28))).toBe(true);
    for (const name of ["token_embedding_table", "rms_att_weight", "rms_ffn_weight", "rms_final_weight"]) expect(region(shared, name).equals(region(exported, name)), name).toBe(true);
    for (const name of ["wq", "wk", "wv", "wo", "w1", "w2", "w3"]) {
      const [a, b] = [new Float32Array(new Uint8Array(region(shared, name, 2)).buffer), new Float32Array(new Uint8Array(region(exported, name, 2)).buffer)];
      expect(Array.from(a).sort(), name).toEqual(Array.from(b).sort());
      expect(region(shared, name, 2).equals(region(exported, name, 2)), name).toBe(false);
    }
    const wq = new Float32Array(new Uint8Array(region(shared, "wq")).buffer);
    const wqExported = new Float32Array(new Uint8Array(region(exported, "wq")).buffer);
    expect(wq.every((value, k) => value === wqExported[(k % 64) * 64 + Math.floor(k / 64)])).toBe(true);
  });

  it("converts a checkpoint in llama2.c's layout to a GGUF whose weights are its own, byte for byte", async () => {
    const header = await readGgufHeader(converted);
    const reference = await readGgufHeader(stories260KGguf);
    // llama.cpp's conversion stores output.weight as a copy of the embedding; ours leaves it tied.
    expect(header.tensors.map((t) => t.name).sort()).toEqual(reference.tensors.map((t) => t.name).filter((name) => name !== "output.weight").sort());
    for (const tensor of header.tensors) {
      expect(tensor.type, tensor.name).toBe("F32");
      expect(Buffer.from(await readGgufTensorData(converted, header, tensor.name)).equals(Buffer.from(await readGgufTensorData(stories260KGguf, reference, tensor.name))), tensor.name).toBe(true);
    }
    for (const key of ["llama.embedding_length", "llama.feed_forward_length", "llama.block_count", "llama.attention.head_count", "llama.attention.head_count_kv", "llama.rope.dimension_count"]) {
      expect(header.metadata.get(key), key).toEqual(reference.metadata.get(key));
    }
    expect(header.metadata.get("llama.context_length")).toEqual({ type: "uint32", value: 512 });
  });

  it("generates llama2.c's reference completion of \"Once upon a time\" (60 greedy tokens)", async () => {
    const ids = await greedyContinuation(converted, "Once upon a time", 60);
    expect(Array.from(ids)).toEqual(Array.from(await greedyContinuation(stories260KGguf, "Once upon a time", 60)));
    // MODELS.md quotes the completion up to its first line break (the 60 tokens go on with "\nLily").
    expect(piecesToText((await readGgufHeader(converted)).metadata, ids).split("\n")[0]).toBe(stories260KCompletion);
  }, 60_000);

  it("agrees with llama.cpp's own conversion on held-out TinyStories text (top-1 ≥ 99%, mean KL < 1e-4)", () => {
    expect(quality.top1Agreement?.scoredTokens).toBe(20 * 63);
    expect(quality.top1Agreement?.ratio).toBeGreaterThanOrEqual(0.99);
    expect(quality.klDivergence?.mean).toBeLessThan(1e-4);
    expect(quality.klDivergence?.max).toBe(0);
    // Same weights, same engine: the two perplexities agree to 1e-6 relative.
    expect(Math.abs((quality.perplexity.perplexity / (quality.basePerplexity?.perplexity as number)) - 1)).toBeLessThan(1e-6);
  });

  it("runs each output once in llama.cpp; the shared, scrambled checkpoint's output is flagged as worse than guessing", async () => {
    expect(convertedRunNote).toMatch(/^output loaded and run once in llama\.cpp .*: perplexity [\d.]+ on 30 tokens/);
    expect(convertedRunNote).not.toContain("worse than guessing");
    const warnings: string[] = [];
    const logger = { debug: () => undefined, info: () => undefined, warn: (message: string) => void warnings.push(message) };
    const scrambled = await convertModel(stories260KLlama2c, { to: "gguf", vocabFrom: stories260KGguf, output: join(dir, "shared-scrambled.gguf") }, { logger });
    expect(scrambled.log.notes.at(-1)).toMatch(/worse than guessing uniformly among its 512 tokens: the weights look broken/);
    expect(warnings).toEqual([scrambled.log.notes.at(-1)]);
  });

  it("takes the tokenizer from a llama2.c tokenizer.bin as well as from a GGUF", async () => {
    const reference = await readGgufHeader(stories260KGguf);
    const tokenizerBin = join(dir, "tok512.bin");
    await writeLlama2cTokenizer(reference.metadata, tokenizerBin);
    const output = join(dir, "from-tokenizer-bin.gguf");
    await convertModel(standard, { to: "gguf", tokenizer: tokenizerBin, output });
    const header = await readGgufHeader(output);
    for (const key of ["tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id"]) {
      expect(header.metadata.get(key), key).toEqual(reference.metadata.get(key));
    }
  });

  it("reads llama2.c's version-1 layout to the same GGUF tensors", async () => {
    const v1 = join(dir, "stories260K-v1.bin");
    await writeFile(v1, legacyToVersion1(await readFile(standard)));
    expect((await detectModelFormat(v1)).format).toBe("llama2c");
    const output = join(dir, "from-v1.gguf");
    await convertModel(v1, { to: "gguf", vocabFrom: stories260KGguf, output });
    const [a, b] = [await readGgufHeader(converted), await readGgufHeader(output)];
    expect(b.tensors.map((t) => [t.name, t.dims])).toEqual(a.tensors.map((t) => [t.name, t.dims]));
    expect(Buffer.from(await readFile(output)).subarray(b.dataOffset).equals(Buffer.from(await readFile(converted)).subarray(a.dataOffset))).toBe(true);
  });

  it("refuses bad input with stable codes", async () => {
    const truncated = join(dir, "truncated.bin");
    await writeFile(truncated, (await readFile(stories260KLlama2c)).subarray(0, 50_000));
    expect(await codeOf(convertModel(truncated, { to: "gguf", vocabFrom: stories260KGguf, output: join(dir, "t.gguf") }))).toBe("UNKNOWN_FORMAT");
    // A 4,096-token vocabulary cannot serve a 512-token model.
    expect(await codeOf(convertModel(stories260KLlama2c, { to: "gguf", vocabFrom: tinyLlamaF16, output: join(dir, "v.gguf") }))).toBe("INVALID_OPTION");
    expect(await codeOf(convertModel(stories260KLlama2c, { to: "gguf", output: join(dir, "n.gguf") }))).toBe("INVALID_OPTION");
    const copy = join(dir, "copy.bin");
    await copyFile(stories260KLlama2c, copy);
    expect(await codeOf(convertModel(copy, { to: "gguf", vocabFrom: stories260KGguf, output: copy }))).toBe("OUTPUT_EQUALS_INPUT");
    expect(await codeOf(optimize({ model: stories260KLlama2c, output: join(dir, "opt-bad"), target: "local" }))).toBe("UNSUPPORTED_FEATURE");
  });

  it("optimize on the converted GGUF works like on any GGUF, and the report names the k-quant fallbacks", async () => {
    const report = await optimize({
      model: converted, output: join(dir, "optimized"), target: "local", ggufTypes: ["Q4_K_M", "Q8_0"], passes: ["gguf.quantize"], threads: [1], contextSize: 128, memorySettings: false,
      evaluation: tinyStoriesText, evalLimit: 2, runs: 2, warmupRuns: 1, noDefaultGates: true, cacheDir: join(dir, "cache"),
    });
    const q4 = report.candidates.find((c) => c.id.startsWith("q4_k_m"));
    expect(q4?.metrics.klDivergence).toBeGreaterThan(0);
    expect(q4?.metrics.tokensPerSec).toBeGreaterThan(0);
    const notes = q4?.passes.flatMap((p) => p.notes) ?? [];
    // Every matrix has 64- or 172-value rows: none can take a 256-wide k-quant block.
    expect(notes.join("\n")).toMatch(/Q4_K_M needs rows that are a multiple of 256 values; 36 of 36 weight matrices have rows of 64 or 172/);
    const q8 = report.candidates.find((c) => c.id.startsWith("q8_0"));
    // Q8_0 takes 64-wide rows; only the 172-wide ffn_down cannot take 32-value blocks.
    expect((q8?.passes.flatMap((p) => p.notes) ?? []).join("\n")).toMatch(/5 of 36 weight matrices have rows of 172, so llama.cpp stored them as F16 ×5/);
  }, 300_000);
});
