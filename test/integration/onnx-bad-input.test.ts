import { create } from "@bufbuild/protobuf";
import { readFile, writeFile } from "node:fs/promises";
import { ValueInfoProtoSchema } from "onnx-buf";
import { describe, expect, it } from "vitest";
import { EdgeforgeError, type ErrorCode } from "../../src/core/errors.js";
import { detectModelFormat } from "../../src/formats/detect-format.js";
import { inspectOnnx, inspectOnnxModel } from "../../src/formats/onnx/inspect-onnx.js";
import { decodeOnnxModel, readOnnxModel } from "../../src/formats/onnx/read-onnx.js";
import { checkOnnxStructure } from "../../src/formats/onnx/structure-check.js";
import { encodeOnnxModel } from "../../src/formats/onnx/write-onnx.js";
import { realOnnxModels } from "../fixtures/onnx-test-models.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";

const temp = useTempDir("edgeforge-onnx-bad-");

/** Deterministic xorshift32 stream, so every failure reproduces. */
function randomStream(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

async function codeOf(promise: Promise<unknown>): Promise<ErrorCode> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!EdgeforgeError.isInstance(error)) throw new Error(`expected an EdgeforgeError, got ${String(error)}`);
  return error.code;
}

describe("bad ONNX input", () => {
  it("empty file → EMPTY_FILE", async () => {
    const path = temp.join("empty.onnx");
    await writeFile(path, new Uint8Array(0));
    expect(await codeOf(readOnnxModel(path))).toBe("EMPTY_FILE");
    expect(await codeOf(inspectOnnx(path))).toBe("EMPTY_FILE");
  });

  it("rec truncated at every 1/8 → TRUNCATED_FILE", async () => {
    const bytes = await readFile(realOnnxModels.rec);
    for (let eighth = 1; eighth < 8; eighth++) {
      const path = temp.join(`rec-${eighth}.onnx`);
      await writeFile(path, bytes.subarray(0, Math.floor((bytes.length * eighth) / 8)));
      expect(await codeOf(readOnnxModel(path)), `cut at ${eighth}/8`).toBe("TRUNCATED_FILE");
    }
  });

  it("random bytes → CORRUPT_MODEL", async () => {
    const next = randomStream(7);
    for (const size of [1, 2, 16, 100, 4096, 65536]) {
      const path = temp.join(`random-${size}.onnx`);
      await writeFile(path, Uint8Array.from({ length: size }, () => Math.floor(next() * 256)));
      expect(await codeOf(readOnnxModel(path)), `${size} random bytes`).toBe("CORRUPT_MODEL");
    }
  });

  it("a .onnx holding GGUF bytes → WRONG_EXTENSION from detection, CORRUPT_MODEL from the reader", async () => {
    const path = temp.join("llama.onnx");
    const gguf = await readFile(sharedModels.tinyLlamaF16);
    await writeFile(path, gguf.subarray(0, 64 * 1024));
    expect(await codeOf(detectModelFormat(path))).toBe("WRONG_EXTENSION");
    expect(await codeOf(readOnnxModel(path))).toBe("CORRUPT_MODEL");
  });

  it("mutated copies of real model bytes each decode or throw an EdgeforgeError (fuzz)", async () => {
    const cls = new Uint8Array(await readFile(realOnnxModels.cls));
    // A small model of real bytes: cls cut to its first 60 nodes (constants included), so thousands of cases stay fast.
    const small = decodeOnnxModel(cls);
    const graph = small.graph!;
    graph.node = graph.node.slice(0, 60);
    graph.output = [create(ValueInfoProtoSchema, { name: graph.node.at(-1)!.output[0]! })];
    expect(checkOnnxStructure(small)).toEqual([]);
    const smallBytes = encodeOnnxModel(small);
    const next = randomStream(20240601);
    const outcomes = new Map<string, number>();
    const cases: [Uint8Array, number][] = [[smallBytes, 3000], [cls, 150]];
    for (const [original, count] of cases) {
      for (let i = 0; i < count; i++) {
        const bytes = mutate(original, next);
        let outcome = "decoded";
        try {
          const model = decodeOnnxModel(bytes, `mutant-${i}`);
          // What decodes must also survive the structure check and the whole inspection.
          checkOnnxStructure(model);
          inspectOnnxModel({ model, path: `mutant-${i}`, folder: temp.path, fileSizeBytes: bytes.length, externalTensors: [], externalDataLoaded: true });
        } catch (error) {
          if (!EdgeforgeError.isInstance(error)) throw new Error(`mutant ${i} of ${original.length} bytes threw ${String(error)}`, { cause: error });
          outcome = error.code;
        }
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    }
    // Both paths are exercised: some mutants decode, others are refused with typed errors.
    expect(outcomes.get("decoded") ?? 0).toBeGreaterThan(100);
    expect(outcomes.get("CORRUPT_MODEL") ?? 0).toBeGreaterThan(100);
  });
});

/** Flip, insert or delete 1–4 bytes, 80% of them in the first 4 KiB (headers, names, small tensors). */
function mutate(original: Uint8Array, next: () => number): Uint8Array {
  let bytes = original;
  const edits = 1 + Math.floor(next() * 4);
  for (let e = 0; e < edits; e++) {
    const span = next() < 0.8 ? Math.min(4096, bytes.length) : bytes.length;
    const at = Math.floor(next() * span);
    const kind = next();
    if (kind < 0.5) {
      bytes = bytes === original ? bytes.slice() : bytes;
      bytes[at] = (bytes[at]! ^ (1 << Math.floor(next() * 8))) & 0xff;
    } else if (kind < 0.75) {
      const grown = new Uint8Array(bytes.length + 1);
      grown.set(bytes.subarray(0, at));
      grown[at] = Math.floor(next() * 256);
      grown.set(bytes.subarray(at), at + 1);
      bytes = grown;
    } else {
      const shrunk = new Uint8Array(bytes.length - 1);
      shrunk.set(bytes.subarray(0, at));
      shrunk.set(bytes.subarray(at + 1), at);
      bytes = shrunk;
    }
  }
  return bytes;
}
