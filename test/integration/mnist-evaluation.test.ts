import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluate } from "../../src/api/evaluate.js";
import { openDataset } from "../../src/datasets/open-dataset.js";
import { argmax } from "../../src/eval/tensor-values.js";
import {
  buildCentroidClassifier,
  classifierModelBytes,
  loadMnistSplit,
  roundToFloat16,
  scoreInJs,
  writeMnistImageFolder,
  type LinearClassifier,
} from "../fixtures/mnist-classifier.js";
import { makeTempDir } from "../fixtures/temp-dir.js";

let dir: string;
let modelPath: string;
let halfPath: string;
let dataPath: string;
let classifier: LinearClassifier;
let half: LinearClassifier;

beforeAll(async () => {
  dir = await makeTempDir("mnist-");
  const split = loadMnistSplit(300, 30);
  classifier = buildCentroidClassifier(split.train);
  half = roundToFloat16(classifier);
  modelPath = join(dir, "centroids.onnx");
  halfPath = join(dir, "centroids_fp16w.onnx");
  await writeFile(modelPath, classifierModelBytes(classifier));
  await writeFile(halfPath, classifierModelBytes(half));
  dataPath = join(dir, "digits");
  await writeMnistImageFolder(dataPath, split.test);
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

/** Top-1 accuracy computed in plain JS over the very tensors the dataset loader produces. */
async function accuracyInJs(c: LinearClassifier): Promise<number> {
  let correct = 0;
  let total = 0;
  for await (const sample of (await openDataset(dataPath)).samples()) {
    if (argmax(scoreInJs(c, sample.inputs.input?.data as Float32Array)) === sample.label) correct += 1;
    total += 1;
  }
  return correct / total;
}

describe("MNIST classification through onnxruntime and the evaluator", () => {
  it("a nearest-centroid classifier built by the test scores well above chance, equal to plain JS", async () => {
    const record = await evaluate({ modelPath, dataPath, task: "classification", settings: { threads: 1 } });
    const top1 = record.metrics.find((m) => m.name === "top1Accuracy")?.value ?? 0;
    const top5 = record.metrics.find((m) => m.name === "top5Accuracy")?.value ?? 0;
    expect(record.data?.samples).toBe(300);
    expect(top1).toBeGreaterThan(0.7);
    expect(top5).toBeGreaterThanOrEqual(top1);
    expect(top1).toBe(await accuracyInJs(classifier));
    expect(record.metricValues.accuracy).toBe(top1);
    expect(record.model).toMatchObject({ format: "onnx", runtime: "ort" });
  });

  it("reports accuracy retention against a baseline as the ratio of top-1 accuracies", async () => {
    const record = await evaluate({ modelPath: halfPath, baselinePath: modelPath, dataPath, task: "classification" });
    const model = record.metrics.find((m) => m.name === "top1Accuracy")?.value ?? 0;
    const base = record.baselineMetrics?.find((m) => m.name === "top1Accuracy")?.value ?? 1;
    expect(record.accuracyRetention).toBeCloseTo(model / base, 12);
    expect(record.accuracyRetention).toBeGreaterThan(0.97);
    expect(record.metricValues.accuracyRetention).toBe(record.accuracyRetention);
  });

  it("measures fidelity of fp16-rounded weights against the original on the same inputs", async () => {
    const record = await evaluate({ modelPath: halfPath, baselinePath: modelPath, dataPath, task: "fidelity" });
    const metric = (name: string) => record.metrics.find((m) => m.name === name)?.value ?? Number.NaN;
    // The expected largest logit difference, computed in float64 JS over the same images.
    let expectedMax = 0;
    for await (const sample of (await openDataset(dataPath)).samples()) {
      const pixels = sample.inputs.input?.data as Float32Array;
      const a = scoreInJs(classifier, pixels);
      const b = scoreInJs(half, pixels);
      for (let d = 0; d < 10; d += 1) expectedMax = Math.max(expectedMax, Math.abs((a[d] as number) - (b[d] as number)));
    }
    expect(metric("maxAbsError")).toBeGreaterThan(0);
    // float32 accumulation order differs from JS float64: 1e-3 absolute tolerance on logits of magnitude ~10.
    expect(Math.abs(metric("maxAbsError") - expectedMax)).toBeLessThan(1e-3);
    expect(metric("cosineSimilarity")).toBeGreaterThan(0.9999);
    expect(metric("cosineSimilarity")).toBeLessThan(1);
    expect(metric("top1Agreement")).toBeGreaterThan(0.98);
    expect(metric("snrDb")).toBeGreaterThan(40);
    expect(record.metricValues).toMatchObject({ cosineSimilarity: metric("cosineSimilarity"), top1Agreement: metric("top1Agreement") });
  });

  it("fidelity without data uses seeded generated inputs, and identical models agree exactly", async () => {
    const record = await evaluate({ modelPath, baselinePath: modelPath, task: "fidelity", options: { samples: 4 } });
    expect(record.data).toBeUndefined();
    expect(record.metrics.find((m) => m.name === "maxAbsError")?.value).toBe(0);
    expect(record.metrics.find((m) => m.name === "snrDb")?.value).toBe(Infinity);
  });

  it("runs a user evaluator module through the same interface, with retention", async () => {
    const evaluatorPath = join(dir, "mean-margin.mjs");
    await writeFile(
      evaluatorPath,
      `export default async function ({ runSamples, options }) {
        let correct = 0, total = 0;
        for await (const { sample, outputs } of runSamples()) {
          const scores = outputs.logits.data;
          let best = 0;
          for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
          if (best === sample.label) correct++;
          total++;
        }
        return { metrics: [{ name: "myAccuracy", value: correct / total, unit: "ratio", direction: "higher" }, { name: "scale", value: options.scale ?? 0 }] };
      }\n`,
    );
    const record = await evaluate({ modelPath, baselinePath: halfPath, dataPath, evaluatorPath, options: { scale: 3 } });
    expect(record.task).toBe("custom");
    expect(record.primaryMetric).toBe("myAccuracy");
    expect(record.metrics.find((m) => m.name === "myAccuracy")?.value).toBe(await accuracyInJs(classifier));
    expect(record.metrics.find((m) => m.name === "scale")?.value).toBe(3);
    expect(record.accuracyRetention).toBeGreaterThan(0.97);
  });

  it("reports a broken user evaluator with a code", async () => {
    const bad = join(dir, "bad.mjs");
    await writeFile(bad, "export default () => ({ metrics: 'nope' });\n");
    await expect(evaluate({ modelPath, dataPath, evaluatorPath: bad })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    const none = join(dir, "none.mjs");
    await writeFile(none, "export const x = 1;\n");
    await expect(evaluate({ modelPath, dataPath, evaluatorPath: none })).rejects.toMatchObject({ code: "INVALID_OPTION", message: expect.stringContaining("exports no function") });
  });
});
