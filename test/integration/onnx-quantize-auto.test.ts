import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readOnnxModel } from "../../src/formats/onnx/read-onnx.js";
import { checkOnnxStructure } from "../../src/formats/onnx/structure-check.js";
import { describeOnnxArtifact } from "../../src/passes/onnx/onnx-pass-io.js";
import { quantizeAutoPass } from "../../src/passes/onnx/quantize-auto.js";
import { quantizeInt8StaticPass } from "../../src/passes/onnx/quantize-int8-static.js";
import { openOrtSession } from "../../src/runtimes/ort/ort-runtime.js";
import { loadMnistSplit, type MnistSample } from "../fixtures/mnist-classifier.js";
import { arrayDataset, mlpModelBytes, mnistInputs, trainMlp, type DenseLayer } from "../fixtures/quantize-fixtures.js";
import { makeTempDir } from "../fixtures/temp-dir.js";

let dir: string;
let modelPath: string;
let split: { train: MnistSample[]; test: MnistSample[] };

/**
 * A trained MNIST MLP with two permutation layers inserted (exact: ReLU commutes with permutations)
 * and one hidden unit scaled ×1000 between them (undone by the next layer). The float model is
 * unchanged, but per-tensor int8 activations of that layer lose every other unit: a case plain
 * int8 fails and mixed precision fixes.
 */
function outlierModel(layers: DenseLayer[]): DenseLayer[] {
  const hidden = layers[0]!.outputs;
  const forward = new Float32Array(hidden * hidden);
  const back = new Float32Array(hidden * hidden);
  for (let i = 0; i < hidden; i++) {
    const j = (i * 37) % hidden;
    forward[i * hidden + j] = i === 5 ? 1000 : 1;
    back[j * hidden + i] = i === 5 ? 1 / 1000 : 1;
  }
  const zeros = new Float32Array(hidden);
  return [layers[0]!, { weights: forward, bias: zeros, inputs: hidden, outputs: hidden }, { weights: back, bias: zeros, inputs: hidden, outputs: hidden }, layers[1]!];
}

beforeAll(async () => {
  dir = await makeTempDir("auto-");
  split = loadMnistSplit(100, 30);
  modelPath = join(dir, "mlp_outlier.onnx");
  await writeFile(modelPath, mlpModelBytes(outlierModel(trainMlp(split.train, 128, 3))));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function accuracy(path: string, samples: readonly MnistSample[]): Promise<number> {
  const session = await openOrtSession(path);
  try {
    let correct = 0;
    for (const sample of samples) {
      const logits = (await session.run({ pixels: { dtype: "float32", dims: [1, 784], data: sample.pixels } })).logits!.data as Float32Array;
      if (logits.indexOf(Math.max(...logits)) === sample.label) correct++;
    }
    return correct / samples.length;
  } finally {
    await session.close();
  }
}

describe("onnx.quantize.auto (accuracy-aware mixed precision)", () => {
  it("meets a maxDrop that plain int8 misses, says which nodes stayed float and why, and reports progress throughout", async () => {
    const progress: string[] = [];
    const context = {
      workDir: dir,
      calibrationData: arrayDataset("mnist-calibration", mnistInputs(split.train.slice(0, 64))),
      evaluationData: arrayDataset("mnist-evaluation", mnistInputs(split.test.slice(0, 150))),
      openSession: (p: string) => openOrtSession(p),
    };
    const input = await describeOnnxArtifact(modelPath);
    const plainPath = join(dir, "plain_int8.onnx");
    const autoPath = join(dir, "auto_int8.onnx");
    await quantizeInt8StaticPass.run(input, plainPath, quantizeInt8StaticPass.optionsSchema.parse({}), context);
    const result = await quantizeAutoPass.run(input, autoPath, quantizeAutoPass.optionsSchema.parse({ maxDrop: 0.02 }), {
      ...context,
      progress: {
        start: (label: string) => progress.push(`start ${label}`),
        update: (done: number, note?: string) => progress.push(`update ${done} ${note ?? ""}`),
        finish: (note?: string) => progress.push(`finish ${note ?? ""}`),
      },
    });

    // On the evaluation data the budget is defined on, plain int8 misses 2 points by far and auto meets it.
    const evaluation = split.test.slice(0, 150);
    const [float, plain, auto] = [await accuracy(modelPath, evaluation), await accuracy(plainPath, evaluation), await accuracy(autoPath, evaluation)];
    expect(float).toBeGreaterThan(0.8);
    expect(float - plain).toBeGreaterThan(0.05);
    expect(float - auto).toBeLessThanOrEqual(0.02);
    // Held-out samples agree (150 samples: ±1 sample is 0.7 points).
    const held = split.test.slice(150);
    const [heldFloat, heldPlain, heldAuto] = [await accuracy(modelPath, held), await accuracy(plainPath, held), await accuracy(autoPath, held)];
    expect(heldFloat - heldPlain).toBeGreaterThan(0.05);
    expect(heldFloat - heldAuto).toBeLessThanOrEqual(0.04);

    expect(result.log.notes.join("\n")).toMatch(/metric accuracy: float/);
    const kept = result.log.notes.filter((note) => note.startsWith("kept float32:"));
    // The two MatMuls around the scaled unit and at most the bias Adds next to them; the rest stays int8.
    const keptIds = kept.map((note) => note.split(" ")[2]);
    expect(keptIds).toEqual(expect.arrayContaining(["MatMul_mm1", "MatMul_mm2"]));
    expect(keptIds.every((id) => /^(MatMul_mm[12]|Add_pre[01])$/.test(id!))).toBe(true);
    expect(result.log.counts.nodesQuantized).toBeGreaterThanOrEqual(3);
    const { model } = await readOnnxModel(autoPath);
    expect(checkOnnxStructure(model)).toEqual([]);

    // Every phase reports: calibration and sensitivity per sample, each candidate with its drop.
    const starts = progress.filter((line) => line.startsWith("start "));
    expect(starts.slice(0, 4)).toEqual(["start calibrate", "start auto: float reference", "start auto: candidates", "start sensitivity"]);
    expect(progress.filter((line) => /^update \d+ mnist-calibration#/.test(line)).length).toBe(64);
    const candidates = progress.filter((line) => /^update \d+ \d+ of \d+ nodes float: accuracy drop -?\d/.test(line));
    expect(candidates.length).toBe(result.log.counts.evaluations);
    expect(progress.filter((line) => line.startsWith("update ")).length).toBeGreaterThanOrEqual(64 + 150 + candidates.length);
  });

  it("reports when no candidate can meet the target instead of returning the float model", async () => {
    const context = {
      workDir: dir,
      calibrationData: arrayDataset("mnist-calibration", mnistInputs(split.train.slice(0, 32))),
      openSession: (p: string) => openOrtSession(p),
    };
    const input = await describeOnnxArtifact(modelPath);
    const output = join(dir, "impossible.onnx");
    await expect(
      quantizeAutoPass.run(input, output, quantizeAutoPass.optionsSchema.parse({ maxDrop: 0, metric: "cosine", maxEvaluations: 3 }), context),
    ).rejects.toMatchObject({ code: "ACCURACY_TARGET_NOT_MET" });
    await expect(readOnnxModel(output)).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
  });
});
