import { readFile, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareLlms, convertModel, type LlmEvaluation } from "../../src/api/llm.js";
import { EdgeforgeError } from "../../src/core/errors.js";
import { readGgufAsHf, writeGgufAsHfFolder, type HfLayoutTensor } from "../../src/passes/hf/export-gguf-as-hf.js";
import { heldoutText, llmTestThreads, tinyLlamaF16 } from "../fixtures/llm-models.js";
import { dequantizeMlx, float16Values, readMlxFolder, uint32Values, writeDequantizedHfFolder } from "../fixtures/mlx-dequantize.js";
import { makeTempDir } from "../fixtures/temp-dir.js";

let dir: string;
let source: Map<string, HfLayoutTensor>;
const variants = [
  { bits: 4, groupSize: 64 },
  { bits: 8, groupSize: 32 },
  { bits: 4, groupSize: 128 },
] as const;
const folders = new Map<string, string>();
const key = (bits: number, groupSize: number): string => `${bits}bit-g${groupSize}`;
let quality: Map<string, LlmEvaluation>;

beforeAll(async () => {
  dir = await makeTempDir("mlx-");
  source = new Map((await readGgufAsHf(tinyLlamaF16)).tensors.map((tensor) => [tensor.name, tensor]));
  for (const { bits, groupSize } of variants) {
    const output = join(dir, key(bits, groupSize));
    await convertModel(tinyLlamaF16, { to: "mlx", bits, groupSize, output });
    folders.set(key(bits, groupSize), output);
  }
  // Model-level check: the independently dequantized weights, run by llama.cpp.
  const dequantized: string[] = [];
  for (const variant of ["4bit-g64", "8bit-g32"]) {
    const hf = join(dir, `${variant}-dequantized-hf`);
    await writeDequantizedHfFolder(folders.get(variant) as string, hf);
    dequantized.push((await convertModel(hf, { to: "gguf", outtype: "F32", output: join(dir, `${variant}-dequantized.gguf`) })).artifact.path);
  }
  const results = await compareLlms({ basePath: tinyLlamaF16, modelPaths: dequantized, textPath: heldoutText, contextSize: 128, maxChunks: 12, threads: llmTestThreads, promptTokens: 0, generateTokens: 0 });
  quality = new Map([
    ["4bit-g64", results[1] as LlmEvaluation],
    ["8bit-g32", results[2] as LlmEvaluation],
  ]);
}, 300_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("mlx.export affine quantization from the tiny-fortunes GGUF", () => {
  it("writes the MLX layout: uint32 weights, float16 scales/biases per group, config quantization key, index and tokenizer", async () => {
    for (const { bits, groupSize } of variants) {
      const folder = folders.get(key(bits, groupSize)) as string;
      expect((await readdir(folder)).sort()).toEqual(["config.json", "model.safetensors", "model.safetensors.index.json", "special_tokens_map.json", "tokenizer.json", "tokenizer.model", "tokenizer_config.json"]);
      const mlx = await readMlxFolder(folder);
      expect(mlx.config.quantization).toEqual({ group_size: groupSize, bits, mode: "affine" });
      expect(mlx.config.quantization_config).toEqual(mlx.config.quantization);
      expect(mlx.header.metadata.format).toBe("mlx");
      const index = JSON.parse(await readFile(join(folder, "model.safetensors.index.json"), "utf8")) as { weight_map: Record<string, string> };
      expect(Object.keys(index.weight_map).sort()).toEqual(mlx.header.tensors.map((t) => t.name).sort());
      const q = mlx.header.tensors.find((t) => t.name === "model.layers.0.self_attn.q_proj.weight");
      expect(q).toMatchObject({ dtype: "U32", shape: [256, (256 * bits) / 32] });
      expect(mlx.header.tensors.find((t) => t.name === "model.layers.0.self_attn.q_proj.scales")).toMatchObject({ dtype: "F16", shape: [256, 256 / groupSize] });
      expect(mlx.header.tensors.find((t) => t.name === "model.layers.0.mlp.down_proj.biases")).toMatchObject({ dtype: "F16", shape: [256, 768 / groupSize] });
      expect(mlx.header.tensors.find((t) => t.name === "model.norm.weight")).toMatchObject({ dtype: "F16", shape: [256] });
      expect(mlx.header.tensors.filter((t) => t.dtype === "U32")).toHaveLength(30);
    }
  });

  it("every dequantized weight is within the affine bound: |w − ŵ| ≤ s/2 (+ float16 rounding of s and β), clamped edge values within s", async () => {
    for (const { bits, groupSize } of variants) {
      const mlx = await readMlxFolder(folders.get(key(bits, groupSize)) as string);
      const levels = 2 ** bits - 1;
      let elements = 0;
      let beyondHalfStep = 0;
      let worstRatio = 0;
      for (const info of mlx.header.tensors.filter((t) => t.dtype === "U32")) {
        const base = info.name.slice(0, -".weight".length);
        const scales = float16Values((await mlx.tensor(`${base}.scales`)).bytes);
        const biases = float16Values((await mlx.tensor(`${base}.biases`)).bytes);
        const rows = info.shape[0] as number;
        const cols = ((info.shape[1] as number) * 32) / bits;
        const restored = dequantizeMlx(uint32Values((await mlx.tensor(info.name)).bytes), scales, biases, rows, cols, bits, groupSize);
        const original = await (source.get(info.name) as HfLayoutTensor).values();
        for (let i = 0; i < original.length; i += 1) {
          const group = Math.floor(i / groupSize);
          const s = Math.abs(scales[group] as number);
          // float16 keeps 11 significant bits: s and β are each off by at most 2^-11 relative.
          const slack = (levels * s + Math.abs(biases[group] as number)) * 2 ** -11 + 1e-7;
          const error = Math.abs((original[i] as number) - (restored[i] as number));
          worstRatio = Math.max(worstRatio, (error - slack) / s);
          if (error > s / 2 + slack) beyondHalfStep += 1;
          elements += 1;
        }
      }
      // MLX snaps the group's edge to an integer step so 0 is exact; that can push the far end one step out of range.
      expect(worstRatio, key(bits, groupSize)).toBeLessThanOrEqual(1);
      expect(beyondHalfStep / elements, key(bits, groupSize)).toBeLessThan(0.01);
    }
  });

  it("the dequantized model runs in llama.cpp close to the F16 source: KL 8-bit < 4-bit, both small", () => {
    const kl4 = quality.get("4bit-g64")?.klDivergence?.mean ?? Number.NaN;
    const kl8 = quality.get("8bit-g32")?.klDivergence?.mean ?? Number.NaN;
    expect(kl8).toBeLessThan(kl4);
    expect(kl8).toBeLessThan(0.001);
    expect(kl4).toBeLessThan(0.02);
    expect(quality.get("4bit-g64")?.top1Agreement?.ratio).toBeGreaterThan(0.9);
  });

  it("exports from a Hugging Face folder too, with the same weights as from the GGUF", async () => {
    const hf = join(dir, "hf-source");
    await writeGgufAsHfFolder(await readGgufAsHf(tinyLlamaF16), hf);
    const fromHf = join(dir, "from-hf");
    await convertModel(hf, { to: "mlx", bits: 4, groupSize: 64, output: fromHf });
    const a = await readMlxFolder(fromHf);
    const b = await readMlxFolder(folders.get("4bit-g64") as string);
    for (const name of ["model.layers.1.mlp.up_proj.weight", "model.layers.1.mlp.up_proj.scales", "lm_head.biases"]) {
      expect(Buffer.compare(Buffer.from((await a.tensor(name)).bytes), Buffer.from((await b.tensor(name)).bytes)), name).toBe(0);
    }
  });

  it("refuses unsupported bits or group sizes and an existing output folder, writing nothing", async () => {
    await expect(convertModel(tinyLlamaF16, { to: "mlx", bits: 3, groupSize: 64, output: join(dir, "x") })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await expect(convertModel(tinyLlamaF16, { to: "mlx", bits: 4, groupSize: 16, output: join(dir, "x") })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    const error = await convertModel(tinyLlamaF16, { to: "mlx", bits: 4, groupSize: 64, output: folders.get("8bit-g32") as string }).catch((caught: unknown) => caught);
    expect(EdgeforgeError.isInstance(error) && error.code).toBe("FILE_WRITE_FAILED");
    expect((await readdir(dir)).some((name) => name.endsWith(".tmp"))).toBe(false);
  });
});
