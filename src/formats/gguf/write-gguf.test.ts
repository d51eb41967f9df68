import { readFile, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { EdgeforgeError } from "../../core/errors.js";
import type { GgufMetadata, GgufValue } from "./gguf-metadata.js";
import { readGgufHeader } from "./read-gguf.js";
import { readGgufTensorChunks, readGgufTensorData } from "./read-gguf-tensor-data.js";
import { writeGguf } from "./write-gguf.js";
import { useTempDir } from "../../../test/fixtures/temp-dir.js";

const temp = useTempDir("edgeforge-gguf-write-");

const everyType: Array<[string, GgufValue]> = [
  ["u8", { type: "uint8", value: 255 }],
  ["i8", { type: "int8", value: -128 }],
  ["u16", { type: "uint16", value: 65535 }],
  ["i16", { type: "int16", value: -32768 }],
  ["u32", { type: "uint32", value: 4294967295 }],
  ["i32", { type: "int32", value: -2147483648 }],
  ["f32", { type: "float32", value: 0.5 }],
  ["f64", { type: "float64", value: Math.PI }],
  ["u64", { type: "uint64", value: 18446744073709551615n }],
  ["i64", { type: "int64", value: -9223372036854775808n }],
  ["yes", { type: "bool", value: true }],
  ["text", { type: "string", value: "héllo ✓" }],
  ["empty", { type: "string", value: "" }],
  ["strings", { type: "array", itemType: "string", items: ["a", "", "ü"] }],
  ["floats", { type: "array", itemType: "float32", items: new Float32Array([1.5, -2, 3.25]) }],
  ["ints", { type: "array", itemType: "int32", items: new Int32Array([-1, 0, 7]) }],
  ["bytes", { type: "array", itemType: "uint8", items: new Uint8Array([1, 2, 3]) }],
  ["big", { type: "array", itemType: "uint64", items: new BigUint64Array([1n, 2n ** 63n]) }],
  ["flags", { type: "array", itemType: "bool", items: [true, false] }],
  ["none", { type: "array", itemType: "float64", items: new Float64Array(0) }],
  [
    "nested",
    {
      type: "array",
      itemType: "array",
      items: [
        { type: "array", itemType: "int16", items: new Int16Array([1, -2]) },
        { type: "array", itemType: "string", items: ["x"] },
      ],
    },
  ],
];

function rampBytes(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, index) => (index * 31 + seed) & 0xff);
}

describe("writeGguf + readGgufHeader", () => {
  it("round-trips every metadata value type with its stored type", async () => {
    const path = temp.join("types.gguf");
    await writeGguf(path, { metadata: everyType, tensors: [] });
    const header = await readGgufHeader(path);
    expect(header.version).toBe(3);
    expect(header.tensors).toEqual([]);
    expect([...header.metadata.keys()]).toEqual(everyType.map(([key]) => key));
    for (const [key, value] of everyType) expect(header.metadata.get(key), key).toEqual(value);
  });

  it("writes tensors aligned and padded, and reads each back by range", async () => {
    const path = temp.join("tensors.gguf");
    const a = rampBytes(3 * 4 * 4, 1);
    const b = rampBytes(2 * 34, 2);
    await writeGguf(path, {
      metadata: [["general.architecture", { type: "string", value: "test" }]],
      alignment: 64,
      tensors: [
        { name: "a", dims: [3, 4], type: "F32", data: a },
        { name: "b", dims: [64], type: "Q8_0", data: async function* () { yield b.subarray(0, 10); yield b.subarray(10); } },
      ],
    });
    const header = await readGgufHeader(path);
    expect(header.alignment).toBe(64);
    expect(header.metadata.get("general.alignment")).toEqual({ type: "uint32", value: 64 });
    expect(header.dataOffset % 64).toBe(0);
    expect(header.tensors.map((t) => [t.name, t.type, t.dims, t.offset, t.sizeBytes])).toEqual([
      ["a", "F32", [3, 4], 0, 48],
      ["b", "Q8_0", [64], 64, 68],
    ]);
    expect(header.fileSizeBytes).toBe(header.dataOffset + 64 + 128);
    expect(await readGgufTensorData(path, header, "b")).toEqual(b);
    const chunks: Uint8Array[] = [];
    for await (const chunk of readGgufTensorChunks(path, header, "a", { chunkBytes: 7 })) chunks.push(chunk);
    expect(chunks).toHaveLength(7);
    expect(Buffer.concat(chunks)).toEqual(Buffer.from(a));
    // Padding is zeros.
    const file = await readFile(path);
    expect([...file.subarray(header.dataOffset + 48, header.dataOffset + 64)].every((byte) => byte === 0)).toBe(true);
  });

  it("refuses data of the wrong length and leaves no output behind", async () => {
    const path = temp.join("short.gguf");
    const attempt = writeGguf(path, { metadata: [], tensors: [{ name: "w", dims: [8], type: "F16", data: new Uint8Array(15) }] });
    await expect(attempt).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await expect(readFile(path)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("validates types, ranges, dims and alignment before writing", async () => {
    const path = temp.join("bad.gguf");
    const cases: Array<Parameters<typeof writeGguf>[1]> = [
      { metadata: [["x", { type: "uint8", value: 256 }]], tensors: [] },
      { metadata: [["x", { type: "int32", value: 1.5 }]], tensors: [] },
      { metadata: [["x", { type: "uint64", value: -1n }]], tensors: [] },
      { metadata: [["x", { type: "array", itemType: "uint16", items: new Uint16Array(1) }], ["x", { type: "bool", value: true }]], tensors: [] },
      { metadata: [], tensors: [{ name: "q", dims: [31], type: "Q4_0", data: new Uint8Array(18) }] },
      { metadata: [], tensors: [{ name: "q", dims: [1, 1, 1, 1, 1], type: "F32", data: new Uint8Array(4) }] },
      { metadata: [], alignment: 24, tensors: [] },
      { metadata: [["general.alignment", { type: "uint32", value: 32 }]], alignment: 64, tensors: [] },
    ];
    for (const input of cases) {
      const error = await writeGguf(path, input).catch((caught: unknown) => caught);
      expect(EdgeforgeError.isInstance(error) && error.code, JSON.stringify(input, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))).toBe("INVALID_OPTION");
    }
  });

  it("reads a header larger than one read chunk (a 150,000-token vocabulary) from disk", async () => {
    const path = temp.join("big-vocab.gguf");
    const tokens = Array.from({ length: 150_000 }, (_, index) => `piece-${index}`);
    await writeGguf(path, {
      metadata: [
        ["tokenizer.ggml.tokens", { type: "array", itemType: "string", items: tokens }],
        ["tokenizer.ggml.scores", { type: "array", itemType: "float32", items: new Float32Array(150_000).fill(-1.5) }],
      ],
      tensors: [{ name: "w", dims: [4], type: "F32", data: new Uint8Array(16) }],
    });
    const header = await readGgufHeader(path);
    expect(header.headerSizeBytes).toBeGreaterThan(2 << 20);
    const read = header.metadata.get("tokenizer.ggml.tokens");
    expect(read?.type === "array" && read.items[149_999]).toBe("piece-149999");
    const scores = header.metadata.get("tokenizer.ggml.scores");
    expect(scores?.type === "array" && scores.items[149_999]).toBe(-1.5);
    expect(header.tensors[0]).toMatchObject({ name: "w", sizeBytes: 16 });
  });

  it("accepts GGUF version 2 files (same layout as v3)", async () => {
    const path = temp.join("v2.gguf");
    const metadata: GgufMetadata = new Map([["k", { type: "uint32", value: 7 }]]);
    await writeGguf(path, { metadata, tensors: [] });
    const bytes = await readFile(path);
    bytes.writeUInt32LE(2, 4);
    await writeFile(path, bytes);
    const header = await readGgufHeader(path);
    expect(header.version).toBe(2);
    expect(header.metadata).toEqual(metadata);
  });
});
