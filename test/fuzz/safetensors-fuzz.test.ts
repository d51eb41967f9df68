import { readFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { readGgufHeader } from "../../src/formats/gguf/read-gguf.js";
import { readGgufTensorData } from "../../src/formats/gguf/read-gguf-tensor-data.js";
import { readSafetensorsHeaderFromSource } from "../../src/formats/safetensors/read-safetensors.js";
import { writeSafetensorsFile } from "../../src/formats/safetensors/write-safetensors-file.js";
import { flipBits, inflateU64, memoryByteSource, runFuzzCases, truncate, u64LengthOffsets, type Mutated, type Random } from "../fixtures/mutate-bytes.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";

const cases = 400;
const temp = useTempDir("safetensors-fuzz-");
let original: Uint8Array;

/** A real checkpoint: stories260K's trained F32 tensors written as safetensors (shapes in HF order). */
beforeAll(async () => {
  const header = await readGgufHeader(sharedModels.stories260kGguf);
  const tensors = await Promise.all(
    header.tensors.slice(0, 12).map(async (tensor) => ({
      name: tensor.name,
      dtype: "F32" as const,
      shape: [...tensor.dims].reverse().map(Number),
      data: await readGgufTensorData(sharedModels.stories260kGguf, header, tensor.name),
    })),
  );
  const path = temp.join("stories260K-part.safetensors");
  await writeSafetensorsFile(path, tensors, { format: "pt" });
  original = new Uint8Array(await readFile(path));
});

describe("safetensors reader fuzz: a mutated real checkpoint ends in a header or a typed error", () => {
  it(`${cases} cases (bit flips and truncation in the JSON header, inflated header length)`, async () => {
    const headerBytes = 8 + Number(new DataView(original.buffer, original.byteOffset).getBigUint64(0, true));
    const lengths = [0, ...u64LengthOffsets(original, 8)];
    const mutate = (random: Random): Mutated => {
      const kind = Math.floor(random() * 3);
      return kind === 0 ? flipBits(original, random, headerBytes) : kind === 1 ? truncate(original, random, headerBytes) : inflateU64(original, random, lengths);
    };
    const outcome = await runFuzzCases(cases, 5, (random) => {
      const { bytes, description } = mutate(random);
      return { description, run: () => readSafetensorsHeaderFromSource(memoryByteSource(bytes, "mutated.safetensors")) };
    });
    console.log(`safetensors fuzz: ${JSON.stringify(outcome)}`);
    expect(outcome.parsed + Object.values(outcome.typedErrors).reduce((a, b) => a + b, 0)).toBe(cases);
    expect(Object.keys(outcome.typedErrors).length).toBeGreaterThan(0);
  });
});
