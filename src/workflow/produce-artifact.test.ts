import { readFile, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { useTempDir } from "../../test/fixtures/temp-dir.js";
import { hashFileSha256 } from "../core/hashing.js";
import type { Dataset } from "../datasets/dataset.js";
import { openDataset } from "../datasets/open-dataset.js";
import type { Pass } from "../passes/pass.js";
import { openPassCache } from "./pass-cache.js";
import { produceArtifact, type HashedArtifact } from "./produce-artifact.js";
import { RunLog } from "./run-log.js";

const temp = useTempDir("produce-");

/** A pass whose output is the first calibration value when `calibrated`, the input's bytes otherwise. */
const scalePass: Pass<{ calibrated: boolean }> = {
  id: "onnx.test.scale",
  version: "1",
  description: "test pass",
  inputFormat: "onnx",
  outputFormat: "onnx",
  optionsSchema: z.object({ calibrated: z.boolean() }),
  searchSpace: {},
  defaultOutputName: () => "out.onnx",
  readsData: (options) => (options.calibrated ? ["calibration"] : []),
  async run(input, outputPath, options, context) {
    let content = await readFile(input.path, "utf8");
    if (options.calibrated) for await (const sample of context.calibrationData!.samples()) content = String((sample.inputs.x!.data as Float32Array)[0]);
    await writeFile(outputPath, content);
    return { artifact: { format: "onnx", path: outputPath, files: [], sizeBytes: content.length, lineage: [] }, log: { counts: {}, notes: [] }, durationMs: 1 };
  },
};

async function jsonData(name: string, value: number): Promise<Dataset> {
  const path = temp.join(name);
  await writeFile(path, `${JSON.stringify({ inputs: { x: [[value]] } })}\n`);
  return openDataset(path);
}

describe("produceArtifact", () => {
  it("keys a pass that reads calibration data by that data: new data reruns it, a data-free pass still hits", async () => {
    const inputPath = temp.join("model.onnx");
    await writeFile(inputPath, "model");
    const input: HashedArtifact = { format: "onnx", path: inputPath, files: [], sizeBytes: 5, lineage: [], sha256: await hashFileSha256(inputPath) };
    const cache = openPassCache({ dir: temp.join("cache"), enabled: true });
    const produceWith = async (calibrationData: Dataset, calibrated: boolean) => {
      const { artifact, steps } = await produceArtifact(input, [{ passId: scalePass.id, options: { calibrated } }], {
        lookupPass: () => scalePass as unknown as Pass,
        cache,
        toolVersions: { edgeforge: "test" },
        contextFor: () => ({ workDir: temp.join("work"), calibrationData }),
        log: new RunLog({ info: () => {}, warn: () => {}, debug: () => {} }),
        produced: new Map(),
      });
      return { content: await readFile(artifact.path, "utf8"), hit: steps[0]!.cacheHit };
    };
    expect(await produceWith(await jsonData("one.jsonl", 1), true)).toEqual({ content: "1", hit: false });
    // The same values in another file are the same data.
    expect(await produceWith(await jsonData("one-again.jsonl", 1), true)).toEqual({ content: "1", hit: true });
    expect(await produceWith(await jsonData("two.jsonl", 2), true)).toEqual({ content: "2", hit: false });
    expect(await produceWith(await jsonData("one.jsonl", 1), false)).toEqual({ content: "model", hit: false });
    expect(await produceWith(await jsonData("three.jsonl", 3), false)).toEqual({ content: "model", hit: true });
  });
});
