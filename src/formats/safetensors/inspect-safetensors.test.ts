import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EdgeforgeError } from "../../core/errors.js";
import { detectModelFormat } from "../detect-format.js";
import { inspectSafetensors } from "./inspect-safetensors.js";
import { readSafetensorsHeader, readSafetensorsTensorData } from "./read-safetensors.js";
import { useTempDir } from "../../../test/fixtures/temp-dir.js";

interface TensorSpecForFile {
  name: string;
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

/** A real safetensors file: u64 LE header length, JSON header padded with spaces to 8 bytes, then the data. */
function safetensorsBytes(tensors: TensorSpecForFile[], metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const tensor of tensors) {
    header[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + tensor.data.length] };
    offset += tensor.data.length;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, Buffer.from(json), ...tensors.map((tensor) => tensor.data)]);
}

function rawHeader(json: string, dataBytes = 0): Buffer {
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([length, Buffer.from(json), Buffer.alloc(dataBytes)]);
}

const filled = (length: number, seed: number) => Uint8Array.from({ length }, (_, index) => (index * 7 + seed) & 0xff);

const temp = useTempDir("edgeforge-safetensors-");

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (EdgeforgeError.isInstance(error)) return error.code;
    throw error;
  }
  return "ok";
}

describe("safetensors single file", () => {
  it("reads dtypes, shapes, offsets and metadata, and each tensor's bytes by range", async () => {
    const path = temp.join("single.safetensors");
    const weight = filled(2 * 3 * 4, 1);
    const bias = filled(4 * 2, 2);
    await writeFile(path, safetensorsBytes([{ name: "w", dtype: "F32", shape: [2, 3], data: weight }, { name: "b", dtype: "BF16", shape: [4], data: bias }], { format: "pt" }));
    const header = await readSafetensorsHeader(path);
    expect(header.metadata).toEqual({ format: "pt" });
    expect(header.tensors.map((t) => [t.name, t.dtype, t.shape, t.dataOffsets, t.elementCount])).toEqual([
      ["w", "F32", [2, 3], [0, 24], 6],
      ["b", "BF16", [4], [24, 32], 4],
    ]);
    expect(header.dataOffset % 8).toBe(0);
    expect(await readSafetensorsTensorData(path, header, "b")).toEqual(bias);
    const inspection = await inspectSafetensors(path);
    expect(inspection).toMatchObject({ format: "safetensors", layout: "file", parameterCount: 10, tensorCount: 2, architecture: "unknown" });
    expect(inspection.byDtype).toEqual([
      { dtype: "F32", tensorCount: 1, parameterCount: 6, sizeBytes: 24 },
      { dtype: "BF16", tensorCount: 1, parameterCount: 4, sizeBytes: 8 },
    ]);
    expect(inspection.memory).toMatchObject({ weightsBytes: 32, estimatedRunBytes: 32 });
    expect(inspection.memory.kvCacheBytes).toBeUndefined();
  });
});

describe("Hugging Face folder with config.json, two shards and an index", () => {
  const config = {
    model_type: "llama",
    architectures: ["LlamaForCausalLM"],
    hidden_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    intermediate_size: 128,
    max_position_embeddings: 512,
    vocab_size: 100,
    torch_dtype: "float16",
  };
  let folder: string;
  beforeAll(async () => {
    folder = temp.join("hf");
    await mkdir(folder);
    await writeFile(join(folder, "config.json"), JSON.stringify(config));
    await writeFile(join(folder, "model-00001-of-00002.safetensors"), safetensorsBytes([{ name: "model.embed_tokens.weight", dtype: "F16", shape: [100, 64], data: filled(100 * 64 * 2, 3) }]));
    await writeFile(
      join(folder, "model-00002-of-00002.safetensors"),
      safetensorsBytes([
        { name: "model.norm.weight", dtype: "F16", shape: [64], data: filled(128, 4) },
        { name: "lm_head.weight", dtype: "F16", shape: [100, 64], data: filled(100 * 64 * 2, 5) },
      ]),
    );
    await writeFile(
      join(folder, "model.safetensors.index.json"),
      JSON.stringify({
        metadata: { total_size: 25728 },
        weight_map: {
          "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
          "model.norm.weight": "model-00002-of-00002.safetensors",
          "lm_head.weight": "model-00002-of-00002.safetensors",
        },
      }),
    );
  });

  it("sums parameters across shards and reads the architecture from config.json", async () => {
    expect(await detectModelFormat(folder)).toEqual({ format: "safetensors", layout: "folder" });
    const inspection = await inspectSafetensors(folder);
    expect(inspection).toMatchObject({ format: "safetensors", layout: "folder", indexFile: "model.safetensors.index.json", tensorCount: 3, architecture: "llama" });
    expect(inspection.parameterCount).toBe(100 * 64 + 64 + 100 * 64);
    expect(inspection.files).toHaveLength(2);
    expect(inspection.config).toEqual({
      modelType: "llama",
      architectures: ["LlamaForCausalLM"],
      hiddenSize: 64,
      numHiddenLayers: 2,
      numAttentionHeads: 4,
      numKeyValueHeads: 2,
      intermediateSize: 128,
      maxPositionEmbeddings: 512,
      vocabSize: 100,
      torchDtype: "float16",
    });
    // 2 (K and V) × 2 layers × 512 positions × 2 KV heads × head_dim 16 × 2 bytes (f16).
    expect(inspection.memory.kvCacheBytes).toBe(2 * 2 * 512 * 2 * 16 * 2);
    expect(inspection.memory.contextLength).toBe(512);
    const atCtx100 = await inspectSafetensors(folder, { contextLength: 100 });
    expect(atCtx100.memory.kvCacheBytes).toBe(2 * 2 * 100 * 2 * 16 * 2);
    expect(atCtx100.memory.estimatedRunBytes).toBeGreaterThan(atCtx100.memory.weightsBytes + (atCtx100.memory.kvCacheBytes ?? 0));
  });

  it("refuses an index that escapes the folder or disagrees with the shards", async () => {
    const evil = temp.join("evil");
    await mkdir(evil);
    await writeFile(join(evil, "config.json"), "{}");
    await writeFile(join(evil, "model.safetensors.index.json"), JSON.stringify({ weight_map: { w: "../single.safetensors" } }));
    expect(await codeOf(inspectSafetensors(evil))).toBe("UNSAFE_PATH");
    await writeFile(join(evil, "a.safetensors"), safetensorsBytes([{ name: "x", dtype: "U8", shape: [1], data: new Uint8Array(1) }]));
    await writeFile(join(evil, "model.safetensors.index.json"), JSON.stringify({ weight_map: { y: "a.safetensors" } }));
    expect(await codeOf(inspectSafetensors(evil))).toBe("CORRUPT_MODEL");
    await writeFile(join(evil, "model.safetensors.index.json"), JSON.stringify({ weight_map: { y: "missing.safetensors" } }));
    expect(await codeOf(inspectSafetensors(evil))).toBe("FILE_NOT_FOUND");
  });
});

describe("MLX folder", () => {
  it("is recognised by config.json's quantization block and counts packed 4-bit weights as parameters", async () => {
    const folder = temp.join("mlx");
    await mkdir(folder);
    await writeFile(join(folder, "config.json"), JSON.stringify({ model_type: "llama", quantization: { group_size: 64, bits: 4 }, hidden_size: 64 }));
    await writeFile(
      join(folder, "model.safetensors"),
      safetensorsBytes([
        { name: "layers.0.mlp.weight", dtype: "U32", shape: [8, 8], data: filled(8 * 8 * 4, 6) },
        { name: "layers.0.mlp.scales", dtype: "F16", shape: [8, 1], data: filled(16, 7) },
        { name: "layers.0.mlp.biases", dtype: "F16", shape: [8, 1], data: filled(16, 8) },
        { name: "norm.weight", dtype: "F16", shape: [8], data: filled(16, 9) },
      ]),
    );
    expect(await detectModelFormat(folder)).toEqual({ format: "mlx", layout: "folder" });
    const inspection = await inspectSafetensors(folder);
    expect(inspection.format).toBe("mlx");
    expect(inspection.quantization).toEqual({ group_size: 64, bits: 4 });
    // 8 rows × 8 U32 × (32 / 4) values each, plus the 8-element norm; scales and biases are overhead.
    expect(inspection.parameterCount).toBe(8 * 8 * 8 + 8);
  });
});

describe("safetensors bad input", () => {
  const cases: Array<[string, string, () => Buffer]> = [
    ["empty file", "EMPTY_FILE", () => Buffer.alloc(0)],
    ["5 bytes", "TRUNCATED_FILE", () => Buffer.from([1, 2, 3, 4, 5])],
    ["header length larger than the file", "LIMIT_EXCEEDED", () => Buffer.concat([Buffer.from([0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from("{}")])],
    ["header length over 100 MB", "LIMIT_EXCEEDED", () => { const b = Buffer.alloc(16); b.writeBigUInt64LE(2n ** 62n); return b; }],
    ["header not JSON", "CORRUPT_MODEL", () => rawHeader("{not json")],
    ["header a JSON list", "CORRUPT_MODEL", () => rawHeader("[1,2]")],
    ["invalid UTF-8", "CORRUPT_MODEL", () => rawHeader("{\"\xff\": 1}".replace("\xff", "\udc80"))],
    ["unknown dtype", "UNSUPPORTED_FEATURE", () => rawHeader('{"w":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}', 1)],
    ["negative dimension", "CORRUPT_MODEL", () => rawHeader('{"w":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}', 1)],
    ["byte count does not match the shape", "CORRUPT_MODEL", () => rawHeader('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', 4)],
    ["offsets reversed", "CORRUPT_MODEL", () => rawHeader('{"w":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}', 4)],
    ["absurd element count", "LIMIT_EXCEEDED", () => rawHeader('{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}', 4)],
    ["data beyond the file", "TRUNCATED_FILE", () => rawHeader('{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', 8)],
    ["overlapping tensors", "CORRUPT_MODEL", () => rawHeader('{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}', 4)],
    ["metadata not strings", "CORRUPT_MODEL", () => rawHeader('{"__metadata__":{"n":1}}')],
  ];
  it.each(cases)("%s → %s", async (name, code, build) => {
    const path = temp.join(`${name.replaceAll(" ", "-")}.safetensors`);
    await writeFile(path, build());
    expect(await codeOf(inspectSafetensors(path))).toBe(code);
  });

  it("names a wrong extension before parsing", async () => {
    const path = temp.join("really-safetensors.gguf");
    await writeFile(path, safetensorsBytes([{ name: "x", dtype: "U8", shape: [1], data: new Uint8Array(1) }]));
    expect(await codeOf(detectModelFormat(path))).toBe("WRONG_EXTENSION");
  });

  it("rejects a folder without weights", async () => {
    const folder = temp.join("no-weights");
    await mkdir(folder);
    await writeFile(join(folder, "config.json"), "{}");
    expect(await codeOf(inspectSafetensors(folder))).toBe("UNKNOWN_FORMAT");
  });
});
