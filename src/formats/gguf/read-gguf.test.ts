import { describe, expect, it } from "vitest";
import type { ByteSource } from "../../core/byte-source.js";
import { EdgeforgeError } from "../../core/errors.js";
import { readGgufHeaderFromSource } from "./read-gguf.js";

/** An in-memory ByteSource that counts reads, to prove the reader fetches in chunks. */
function memorySource(bytes: Uint8Array): ByteSource & { reads: number } {
  const source = {
    path: "memory.gguf",
    sizeBytes: bytes.length,
    reads: 0,
    async read(offset: number, length: number) {
      source.reads += 1;
      if (offset + length > bytes.length) throw new EdgeforgeError("TRUNCATED_FILE", "past the end");
      return bytes.slice(offset, offset + length);
    },
    async close() {},
    async [Symbol.asyncDispose]() {},
  };
  return source;
}

const u32 = (value: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(value); return b; };
const i32 = (value: number) => { const b = Buffer.alloc(4); b.writeInt32LE(value); return b; };
const u64 = (value: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(value); return b; };
const str = (text: string) => Buffer.concat([u64(BigInt(Buffer.byteLength(text))), Buffer.from(text)]);
const head = (tensorCount: bigint, kvCount: bigint, version = 3) => Buffer.concat([Buffer.from("GGUF"), u32(version), u64(tensorCount), u64(kvCount)]);
const padding = Buffer.alloc(256);

async function codeOf(bytes: Uint8Array, signal?: AbortSignal): Promise<string> {
  try {
    await readGgufHeaderFromSource(memorySource(bytes), { signal });
  } catch (error) {
    if (EdgeforgeError.isInstance(error)) return error.code;
    throw error;
  }
  return "parsed";
}

function tensorInfo(name: string, dims: bigint[], type: number, offset: bigint): Buffer {
  return Buffer.concat([str(name), u32(dims.length), ...dims.map(u64), i32(type), u64(offset)]);
}

describe("readGgufHeader limits and bad input", () => {
  it("parses a minimal hand-made header", async () => {
    const bytes = Buffer.concat([head(1n, 1n), str("k"), u32(8), str("v"), tensorInfo("t", [4n], 0, 0n)]);
    const dataOffset = Math.ceil(bytes.length / 32) * 32;
    const file = Buffer.concat([bytes, Buffer.alloc(dataOffset - bytes.length + 16)]);
    const header = await readGgufHeaderFromSource(memorySource(file));
    expect(header.dataOffset).toBe(dataOffset);
    expect(header.tensors).toEqual([{ name: "t", dims: [4], type: "F32", offset: 0, elementCount: 4, sizeBytes: 16 }]);
    expect(header.metadata.get("k")).toEqual({ type: "string", value: "v" });
  });

  it.each([
    ["empty file", "EMPTY_FILE", Buffer.alloc(0)],
    ["random bytes", "CORRUPT_MODEL", Buffer.from("this is certainly not a gguf file at all")],
    ["3 bytes", "CORRUPT_MODEL", Buffer.from("GGU")],
    ["magic only", "TRUNCATED_FILE", Buffer.from("GGUF")],
    ["GGUF v1", "UNSUPPORTED_FEATURE", Buffer.concat([head(0n, 0n, 1), padding])],
    ["big-endian v3", "UNSUPPORTED_FEATURE", Buffer.concat([head(0n, 0n, 0x03000000), padding])],
    ["unknown version", "CORRUPT_MODEL", Buffer.concat([head(0n, 0n, 7), padding])],
    ["tensor count 2^60", "LIMIT_EXCEEDED", Buffer.concat([head(2n ** 60n, 0n), padding])],
    ["negative tensor count", "CORRUPT_MODEL", Buffer.concat([head(2n ** 64n - 1n, 0n), padding])],
    ["kv count beyond the file", "LIMIT_EXCEEDED", Buffer.concat([head(0n, 1000n), padding])],
    ["absurd key length", "LIMIT_EXCEEDED", Buffer.concat([head(0n, 1n), u64(2n ** 62n), padding])],
    ["key length past the end", "TRUNCATED_FILE", Buffer.concat([head(0n, 1n), u64(120n), Buffer.alloc(100)])],
    ["absurd string value length", "LIMIT_EXCEEDED", Buffer.concat([head(0n, 1n), str("k"), u32(8), u64(2n ** 63n), padding])],
    ["absurd array length", "LIMIT_EXCEEDED", Buffer.concat([head(0n, 1n), str("k"), u32(9), u32(6), u64(2n ** 61n), padding])],
    ["absurd string-array length", "LIMIT_EXCEEDED", Buffer.concat([head(0n, 1n), str("k"), u32(9), u32(8), u64(2n ** 40n), padding])],
    ["unknown value type", "CORRUPT_MODEL", Buffer.concat([head(0n, 1n), str("k"), u32(13), padding])],
    ["bool that is 2", "CORRUPT_MODEL", Buffer.concat([head(0n, 1n), str("k"), u32(7), Buffer.from([2]), padding])],
    ["duplicate key", "CORRUPT_MODEL", Buffer.concat([head(0n, 2n), str("k"), u32(0), Buffer.from([1]), str("k"), u32(0), Buffer.from([1]), padding])],
    ["alignment stored as int32", "CORRUPT_MODEL", Buffer.concat([head(0n, 1n), str("general.alignment"), u32(5), u32(64), padding])],
    ["alignment not a power of two", "CORRUPT_MODEL", Buffer.concat([head(0n, 1n), str("general.alignment"), u32(4), u32(48), padding])],
    ["n_dims 99", "CORRUPT_MODEL", Buffer.concat([head(1n, 0n), str("t"), u32(99), padding])],
    ["negative dimension", "CORRUPT_MODEL", Buffer.concat([head(1n, 0n), tensorInfo("t", [2n ** 64n - 4n], 0, 0n), padding])],
    ["element count overflow", "LIMIT_EXCEEDED", Buffer.concat([head(1n, 0n), tensorInfo("t", [2n ** 40n, 2n ** 40n], 0, 0n), padding])],
    ["tensor bigger than the file", "TRUNCATED_FILE", Buffer.concat([head(1n, 0n), tensorInfo("t", [2n ** 30n], 0, 0n), padding])],
    ["unknown ggml type", "CORRUPT_MODEL", Buffer.concat([head(1n, 0n), tensorInfo("t", [4n], 4, 0n), padding])],
    ["row not a whole block", "CORRUPT_MODEL", Buffer.concat([head(1n, 0n), tensorInfo("t", [31n], 2, 0n), padding])],
    ["misaligned offset", "CORRUPT_MODEL", Buffer.concat([head(1n, 0n), tensorInfo("t", [4n], 0, 8n), padding])],
    ["offset beyond the file", "TRUNCATED_FILE", Buffer.concat([head(1n, 0n), tensorInfo("t", [4n], 0, 2n ** 50n), padding])],
    ["offset beyond any file", "LIMIT_EXCEEDED", Buffer.concat([head(1n, 0n), tensorInfo("t", [4n], 0, 2n ** 60n), padding])],
    ["data past the end", "TRUNCATED_FILE", Buffer.concat([head(1n, 0n), tensorInfo("t", [4n], 0, 288n), padding])],
    ["overlapping tensors", "CORRUPT_MODEL", Buffer.concat([head(2n, 0n), tensorInfo("a", [16n], 0, 0n), tensorInfo("b", [4n], 0, 32n), padding])],
    ["duplicate tensor", "CORRUPT_MODEL", Buffer.concat([head(2n, 0n), tensorInfo("a", [4n], 0, 0n), tensorInfo("a", [4n], 0, 32n), padding])],
  ])("%s → %s", async (_name, code, bytes) => {
    expect(await codeOf(bytes)).toBe(code);
  });

  it("refuses arrays nested without end", async () => {
    const nesting = Array.from({ length: 20 }, () => Buffer.concat([u32(9), u64(1n)]));
    expect(await codeOf(Buffer.concat([head(0n, 1n), str("k"), u32(9), ...nesting, padding]))).toBe("LIMIT_EXCEEDED");
  });

  it("reads a 100,000-string vocabulary in a few chunked reads, not one read per value", async () => {
    const pieces = Array.from({ length: 100_000 }, (_, index) => `tok${index}`);
    const bytes = Buffer.concat([head(0n, 1n), str("tokenizer.ggml.tokens"), u32(9), u32(8), u64(BigInt(pieces.length)), ...pieces.map(str)]);
    const source = memorySource(bytes);
    const header = await readGgufHeaderFromSource(source);
    const tokens = header.metadata.get("tokenizer.ggml.tokens");
    expect(tokens?.type === "array" && tokens.items.length).toBe(100_000);
    expect(tokens?.type === "array" && tokens.items[99_999]).toBe("tok99999");
    expect(source.reads).toBeLessThanOrEqual(4);
  });

  it("honours an aborted signal", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(codeOf(Buffer.concat([head(0n, 0n), padding]), controller.signal)).rejects.toThrow(/abort/i);
  });
});
