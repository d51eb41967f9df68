import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { summarizeGgufHeader } from "../../src/formats/gguf/inspect-gguf.js";
import { readGgufHeader, readGgufHeaderFromSource } from "../../src/formats/gguf/read-gguf.js";
import { flipBits, inflateU64, memoryByteSource, runFuzzCases, truncate, u64LengthOffsets, type Mutated, type Random } from "../fixtures/mutate-bytes.js";
import { sharedModels } from "../fixtures/shared-models.js";

const casesPerModel = 300;

/** Mutations aimed at the header (where the reader parses); the tensor data after it is only bounds-checked. */
async function fuzzGguf(path: string, seed: number) {
  const original = new Uint8Array(await readFile(path));
  const headerBytes = (await readGgufHeader(path)).headerSizeBytes;
  const lengths = u64LengthOffsets(original, headerBytes);
  const mutate = (random: Random): Mutated => {
    const kind = Math.floor(random() * 3);
    return kind === 0 ? flipBits(original, random, headerBytes) : kind === 1 ? truncate(original, random, headerBytes) : inflateU64(original, random, lengths);
  };
  return runFuzzCases(casesPerModel, seed, (random) => {
    const { bytes, description } = mutate(random);
    return { description, run: async () => summarizeGgufHeader(await readGgufHeaderFromSource(memoryByteSource(bytes, "mutated.gguf"))) };
  });
}

describe("GGUF reader fuzz: mutated real files end in a header or a typed error", () => {
  for (const [name, path, seed] of [
    ["stories260K.gguf (48 F32 tensors)", sharedModels.stories260kGguf, 3],
    ["ggml-vocab-llama-spm.gguf (32,000-token vocabulary, 0 tensors)", sharedModels.vocabOnlyLlamaGguf, 4],
  ] as const) {
    it(`${name}: ${casesPerModel} cases (bit flips, truncation, inflated u64 lengths and counts)`, async () => {
      const outcome = await fuzzGguf(path, seed);
      console.log(`gguf fuzz ${name}: ${JSON.stringify(outcome)}`);
      expect(outcome.parsed + Object.values(outcome.typedErrors).reduce((a, b) => a + b, 0)).toBe(casesPerModel);
      expect(Object.keys(outcome.typedErrors).length).toBeGreaterThan(0);
    });
  }
});
