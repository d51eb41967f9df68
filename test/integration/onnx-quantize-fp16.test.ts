import { describe, expect, it } from "vitest";
import { quantize } from "../../src/api/quantize.js";
import type { NamedTensors, Tensor } from "../../src/core/tensor.js";
import { walkNodes } from "../../src/formats/onnx/graph-walk.js";
import { readOnnxModel } from "../../src/formats/onnx/read-onnx.js";
import { checkOnnxStructure } from "../../src/formats/onnx/structure-check.js";
import { openOrtSession } from "../../src/runtimes/ort/ort-runtime.js";
import { realOnnxModels } from "../fixtures/onnx-test-models.js";
import { cosine, fonts, renderPage, renderTextLine, runVadSideBySide, textLine } from "../fixtures/quantize-fixtures.js";
import { useTempDir } from "../fixtures/temp-dir.js";

const temp = useTempDir("edgeforge-fp16-");

async function outputsOf(path: string, inputs: NamedTensors[]): Promise<Tensor[]> {
  const session = await openOrtSession(path);
  try {
    const outputs: Tensor[] = [];
    for (const feed of inputs) outputs.push(Object.values(await session.run(feed))[0]!);
    return outputs;
  } finally {
    await session.close();
  }
}

async function expectSound(path: string): Promise<void> {
  const { model } = await readOnnxModel(path);
  expect(checkOnnxStructure(model)).toEqual([]);
}

describe("onnx.convert.fp16 on the PaddleOCR models", () => {
  const cases = [
    { name: "det", path: realOnnxModels.det, inputs: async () => [{ x: await renderPage(0) }, { x: await renderPage(1) }] },
    { name: "rec", path: realOnnxModels.rec, inputs: async () => Promise.all([0, 1, 2].map(async (i) => ({ x: await renderTextLine(textLine(i), fonts[i]!) }))) },
    { name: "cls", path: realOnnxModels.cls, inputs: async () => [{ x: await renderTextLine(textLine(5), fonts[0]!) }] },
  ];
  for (const testCase of cases) {
    it(`${testCase.name}: outputs within cosine 0.999 of float32 at about half the size`, async () => {
      const output = temp.join(`${testCase.name}_fp16.onnx`);
      const report = await quantize(testCase.path, { method: "fp16", output });
      await expectSound(output);
      // Weights are 2 bytes instead of 4; graph structure and the few float32 constants add a little.
      const ratio = report.output.sizeBytes / report.input.sizeBytes;
      expect(ratio).toBeGreaterThan(0.45);
      expect(ratio).toBeLessThan(0.56);
      const inputs = (await testCase.inputs()).map((feed) => feed as NamedTensors);
      const [expected, actual] = [await outputsOf(testCase.path, inputs), await outputsOf(output, inputs)];
      for (let i = 0; i < inputs.length; i++) {
        expect(actual[i]!.dtype).toBe("float32");
        expect(cosine(expected[i]!.data as Float32Array, actual[i]!.data as Float32Array)).toBeGreaterThanOrEqual(0.999);
      }
    });
  }

  it("det: a BatchNorm variance beyond ±65504 keeps that node float32 by default; overflow=clamp clamps and counts", async () => {
    const kept = await quantize(realOnnxModels.det, { method: "fp16", output: temp.join("det_kept.onnx") });
    expect(kept.log.counts.nodesKeptFloat32ForRange).toBeGreaterThanOrEqual(1);
    expect(kept.log.counts.valuesClamped ?? 0).toBe(0);
    const clamped = await quantize(realOnnxModels.det, { method: "fp16", output: temp.join("det_clamped.onnx"), passOptions: { overflow: "clamp" } });
    // batch_norm_0.w_2 holds 24 variances up to ~9.8e7.
    expect(clamped.log.counts.valuesClamped).toBe(24);
    expect(clamped.log.notes.join("\n")).toMatch(/clamped/);
  });
});

describe("onnx.convert.fp16 on Silero VAD (weights inside If subgraphs)", () => {
  it("converts the subgraphs and keeps the recurrent state within cosine 0.999 over 12 frames", async () => {
    const output = temp.join("vad_fp16.onnx");
    const report = await quantize(realOnnxModels.vad, { method: "fp16", output });
    await expectSound(output);
    const { model } = await readOnnxModel(output);
    const subgraphCasts = [...walkNodes(model.graph!)].filter((v) => v.scope.depth > 0 && v.node.opType === "Cast").length;
    expect(subgraphCasts).toBeGreaterThan(0);
    expect(report.log.counts.tensorsConverted).toBeGreaterThan(80);
    for (const { float, candidate } of await runVadSideBySide(realOnnxModels.vad, output, 12)) {
      expect(Math.abs((float.output!.data as Float32Array)[0]! - (candidate.output!.data as Float32Array)[0]!)).toBeLessThan(0.01);
      expect(cosine(float.hn!.data as Float32Array, candidate.hn!.data as Float32Array)).toBeGreaterThanOrEqual(0.999);
    }
  });
});
