import { fromBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema } from "onnx-buf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { roundHalfToEven } from "../../src/kernels/linear-quantization.js";
import { createRangeCollector } from "../../src/kernels/range-collector.js";
import type { Reference } from "../../src/passes/onnx/accuracy-drop.js";
import { captureActivations } from "../../src/passes/onnx/activation-capture.js";
import { calibrateRanges } from "../../src/passes/onnx/calibrate-ranges.js";
import { measureSensitivity } from "../../src/passes/onnx/node-sensitivity.js";
import { activationParams, planStatic, quantizeInt8StaticOptionsSchema } from "../../src/passes/onnx/quantize-int8-static.js";
import { openOrtSession } from "../../src/runtimes/ort/ort-runtime.js";
import { arrayDataset, mlpModelBytes, seededRandom, type DenseLayer } from "../fixtures/quantize-fixtures.js";
import { makeTempDir } from "../fixtures/temp-dir.js";
import { rm } from "node:fs/promises";

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir("in-graph-");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function randomLayer(inputs: number, outputs: number, random: () => number): DenseLayer {
  return { inputs, outputs, weights: Float32Array.from({ length: inputs * outputs }, () => (random() - 0.5) * 0.2), bias: Float32Array.from({ length: outputs }, () => random() - 0.5) };
}

/** A random MLP 784 → 64 → 10 and a few random inputs (one with a large outlier). */
function fixture() {
  const random = seededRandom(11);
  const model = fromBinary(ModelProtoSchema, mlpModelBytes([randomLayer(784, 64, random), randomLayer(64, 10, random)]));
  const samples = Array.from({ length: 6 }, (_, i) => {
    const data = Float32Array.from({ length: 784 }, () => random() * 2 - 1);
    if (i === 3) data[100] = 40;
    return { inputs: { pixels: { dtype: "float32" as const, dims: [1, 784], data } } };
  });
  const options = { ...quantizeInt8StaticOptionsSchema.parse({}), activationType: "uint8" as const, reduceRange: false };
  const { plan } = planStatic(model, options, "mlp.onnx");
  const context = { workDir: dir, calibrationData: arrayDataset("random", samples), openSession: (p: string) => openOrtSession(p) };
  return { model, samples, options, plan, context };
}

describe("activation statistics reduced inside the graph", () => {
  it("minmax calibration gives exactly the ranges of the element-wise collector over the exposed activations", async () => {
    const { model, plan, context } = fixture();
    const collectors = new Map(plan.tensors.map((name) => [name, createRangeCollector({ method: "minmax" })]));
    await captureActivations(model, plan.tensors, context.calibrationData, context, (values) => {
      for (const [name, collector] of collectors) collector.add(values[name]!.data as Float32Array);
    });
    const { ranges, samples } = await calibrateRanges(model, plan.tensors, { method: "minmax" }, context);
    expect(samples).toBe(6);
    expect(plan.tensors.length).toBeGreaterThanOrEqual(3);
    for (const [name, collector] of collectors) expect(ranges.get(name)).toEqual(collector.computeRange());
  });

  it("sensitivity's activation error matches quantize-dequantize computed element-wise (within 5e-5), with no drift against itself", async () => {
    const { model, samples, options, plan, context } = fixture();
    const { ranges } = await calibrateRanges(model, plan.tensors, { method: "minmax" }, context);
    const params = activationParams(ranges, options);
    const exposed: Record<string, Float32Array>[] = [];
    await captureActivations(model, plan.tensors, context.calibrationData, context, (values) => {
      exposed.push(Object.fromEntries(plan.tensors.map((name) => [name, values[name]!.data as Float32Array])));
    });
    const reference: Reference = { metric: "cosine", score: 1, samples: samples.map((s, i) => ({ id: String(i), inputs: s.inputs, outputs: {} })) };
    // The float model as its own "quantized" model: every activation's drift is zero.
    const ranking = await measureSensitivity(model, model, plan.nodes, plan.tensors, params, reference, options, context);
    expect(ranking.length).toBe(plan.nodes.length);
    for (const node of plan.nodes) {
      let noise = 0;
      let signal = 0;
      const names = [...node.activations, ...node.outputs].filter((name) => params.has(name));
      const errors = names.map((name) => {
        const { scale, zeroPoint } = params.get(name)!;
        noise = 0;
        signal = 0;
        for (const sample of exposed) {
          for (const x of sample[name]!) {
            const q = Math.min(255, Math.max(0, roundHalfToEven(Math.fround(x / scale)) + zeroPoint));
            noise += (x - (q - zeroPoint) * scale) ** 2;
            signal += x * x;
          }
        }
        return Math.sqrt(noise / signal);
      });
      const measured = ranking.find((r) => r.id === node.id)!;
      expect(measured.activationError).toBeCloseTo(Math.max(0, ...errors), 4);
      expect(measured.contextError).toBe(0);
    }
  });
});
