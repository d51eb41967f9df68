import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { decodeOnnxModel } from "../../src/formats/onnx/read-onnx.js";
import { checkOnnxStructure } from "../../src/formats/onnx/structure-check.js";
import { flipBits, inflateVarint, protobufLengthOffsets, runFuzzCases, truncate, type Mutated, type Random } from "../fixtures/mutate-bytes.js";
import { realOnnxModels } from "../fixtures/onnx-test-models.js";
import { sharedModels } from "../fixtures/shared-models.js";

const casesPerModel = 300;

async function fuzzOnnx(path: string, seed: number) {
  const original = new Uint8Array(await readFile(path));
  const lengths = protobufLengthOffsets(original);
  const mutate = (random: Random): Mutated => {
    const kind = Math.floor(random() * 3);
    return kind === 0 ? flipBits(original, random) : kind === 1 ? truncate(original, random) : inflateVarint(original, random, lengths);
  };
  return runFuzzCases(casesPerModel, seed, (random) => {
    const { bytes, description } = mutate(random);
    return { description, run: () => checkOnnxStructure(decodeOnnxModel(bytes, "mutated.onnx")) };
  });
}

describe("ONNX reader fuzz: mutated real models end in a model or a typed error", () => {
  it(`mnist-8.onnx: ${casesPerModel} cases (bit flips, truncation, inflated protobuf lengths)`, async () => {
    const outcome = await fuzzOnnx(sharedModels.mnist8Onnx, 1);
    console.log(`onnx fuzz mnist-8: ${JSON.stringify(outcome)}`);
    expect(outcome.parsed + Object.values(outcome.typedErrors).reduce((a, b) => a + b, 0)).toBe(casesPerModel);
    expect(Object.keys(outcome.typedErrors).length).toBeGreaterThan(0);
  });

  it(`PP-OCR cls: ${casesPerModel} cases`, async () => {
    const outcome = await fuzzOnnx(realOnnxModels.cls, 2);
    console.log(`onnx fuzz cls: ${JSON.stringify(outcome)}`);
    expect(outcome.parsed + Object.values(outcome.typedErrors).reduce((a, b) => a + b, 0)).toBe(casesPerModel);
  });
});
