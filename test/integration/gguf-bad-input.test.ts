import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ByteSource } from "../../src/core/byte-source.js";
import { EdgeforgeError, type ErrorCode } from "../../src/core/errors.js";
import { inspectGguf } from "../../src/formats/gguf/inspect-gguf.js";
import { readGgufHeader, readGgufHeaderFromSource } from "../../src/formats/gguf/read-gguf.js";
import { fuzzRandom } from "../fixtures/mutate-bytes.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { makeTempDir } from "../fixtures/temp-dir.js";

const modelPath = sharedModels.tinyLlamaF16;
const readerCodes = new Set<ErrorCode>(["EMPTY_FILE", "TRUNCATED_FILE", "CORRUPT_MODEL", "LIMIT_EXCEEDED", "UNSUPPORTED_FEATURE"]);

let original: Buffer;
let dir: string;
beforeAll(async () => {
  original = await readFile(modelPath);
  dir = await makeTempDir("gguf-bad-");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function outcome(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return "parsed";
  } catch (error) {
    if (EdgeforgeError.isInstance(error) && readerCodes.has(error.code)) return error.code;
    throw error;
  }
}

/** The original file seen through a mutated copy of its first `prefix.length`-ish bytes, without copying 11 MB per case. */
function splicedSource(prefix: Uint8Array, replacedLength: number): ByteSource {
  const tailStart = replacedLength;
  const sizeBytes = prefix.length + (original.length - tailStart);
  return {
    path: "mutated.gguf",
    sizeBytes,
    async read(offset, length) {
      if (offset < 0 || offset + length > sizeBytes) throw new EdgeforgeError("TRUNCATED_FILE", "past the end");
      const out = new Uint8Array(length);
      const fromPrefix = prefix.subarray(Math.min(offset, prefix.length), Math.min(offset + length, prefix.length));
      out.set(fromPrefix);
      const tailFrom = tailStart + Math.max(0, offset - prefix.length);
      out.set(original.subarray(tailFrom, tailFrom + length - fromPrefix.length), fromPrefix.length);
      return out;
    },
    async close() {},
    async [Symbol.asyncDispose]() {},
  };
}


describe("GGUF reader on damaged copies of the real model", () => {
  it("truncated at every 1/8 of its size: a typed error each time", async () => {
    const codes: string[] = [];
    for (let eighth = 0; eighth < 8; eighth += 1) {
      const path = join(dir, `cut-${eighth}.gguf`);
      await writeFile(path, original.subarray(0, Math.floor((original.length * eighth) / 8)));
      codes.push(await outcome(() => inspectGguf(path)));
    }
    expect(codes, codes.join()).toEqual(["EMPTY_FILE", ...new Array<string>(7).fill("TRUNCATED_FILE")]);
  });

  it("truncated inside the header (every 1/8 of it): TRUNCATED_FILE or LIMIT_EXCEEDED, never a crash", async () => {
    const header = await readGgufHeader(modelPath);
    for (let eighth = 1; eighth < 8; eighth += 1) {
      const cut = Math.floor((header.headerSizeBytes * eighth) / 8);
      const source = splicedSource(original.subarray(0, cut), original.length);
      expect(["TRUNCATED_FILE", "LIMIT_EXCEEDED"]).toContain(await outcome(() => readGgufHeaderFromSource(source)));
    }
  });

  it("random bytes named .gguf are CORRUPT_MODEL", async () => {
    const random = fuzzRandom(7);
    const path = join(dir, "random.gguf");
    await writeFile(path, Uint8Array.from({ length: 4096 }, () => Math.floor(random() * 256)));
    expect(await outcome(() => inspectGguf(path))).toBe("CORRUPT_MODEL");
  });

  it("a tensor count of 2^60 in the real header is refused before allocation", async () => {
    const bytes = Buffer.from(original.subarray(0, 64));
    bytes.writeBigUInt64LE(2n ** 60n, 8);
    expect(await outcome(() => readGgufHeaderFromSource(splicedSource(bytes, 64)))).toBe("LIMIT_EXCEEDED");
  });

  it("2,000 mutated headers (flips, inserts, deletes, huge lengths in the first 64 KiB) each parse or throw a typed error", async () => {
    const random = fuzzRandom(20240601);
    const region = 64 * 1024;
    const outcomes = new Map<string, number>();
    for (let round = 0; round < 2000; round += 1) {
      let prefix = Buffer.from(original.subarray(0, region));
      const mutations = 1 + Math.floor(random() * 4);
      for (let m = 0; m < mutations; m += 1) {
        // Half the mutations hit the first 1 KiB, where the counts and the first keys live.
        const at = Math.floor(random() * (random() < 0.5 ? 1024 : prefix.length));
        const kind = random();
        const randomBytes = (count: number) => Buffer.from(Array.from({ length: count }, () => Math.floor(random() * 256)));
        if (kind < 0.4) prefix[at] = (prefix[at] ?? 0) ^ (1 << Math.floor(random() * 8));
        else if (kind < 0.55) prefix[at] = [0, 0xff, 0x7f, 0x80][Math.floor(random() * 4)] as number;
        else if (kind < 0.7) prefix = Buffer.concat([prefix.subarray(0, at), randomBytes(1 + Math.floor(random() * 8)), prefix.subarray(at)]);
        else if (kind < 0.85) prefix = Buffer.concat([prefix.subarray(0, at), prefix.subarray(at + 1 + Math.floor(random() * 8))]);
        else prefix = Buffer.concat([prefix.subarray(0, at), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), randomBytes(1), prefix.subarray(at + 8)]);
      }
      const source = splicedSource(prefix, region);
      const result = await outcome(() => readGgufHeaderFromSource(source)).catch((error: unknown) => {
        throw new Error(`round ${round}: ${String(error)}`, { cause: error });
      });
      outcomes.set(result, (outcomes.get(result) ?? 0) + 1);
    }
    // The mutations must reach both outcomes: some copies still parse (flips inside strings) and most fail typed.
    expect(outcomes.get("parsed") ?? 0).toBeGreaterThan(0);
    expect([...outcomes.keys()].filter((key) => key !== "parsed").length).toBeGreaterThanOrEqual(3);
  });
});
