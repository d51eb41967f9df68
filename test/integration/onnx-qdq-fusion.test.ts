import { readFile } from "node:fs/promises";
import { AttributeProto_AttributeType, AttributeProtoSchema } from "onnx-buf";
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import type { Tensor } from "../../src/core/tensor.js";
import { createTensorProto } from "../../src/formats/onnx/tensor-data.js";
import { decodeOnnxModel } from "../../src/formats/onnx/read-onnx.js";
import { writeOnnxModel } from "../../src/formats/onnx/write-onnx.js";
import { computeQuantizationParams } from "../../src/kernels/linear-quantization.js";
import { foldFloatAffinesIntoConv, fuseFloatHardSwish } from "../../src/passes/onnx/float-island-rewrites.js";
import { floatAttribute, NameAllocator } from "../../src/passes/onnx/graph-edit.js";
import { describeOnnxArtifact } from "../../src/passes/onnx/onnx-pass-io.js";
import { foldedParams } from "../../src/passes/onnx/qdq-apply.js";
import { defaultQdqOpTypes } from "../../src/passes/onnx/qdq-plan.js";
import { prepareForQdq } from "../../src/passes/onnx/qdq-prepare.js";
import { quantizeInt8StaticPass } from "../../src/passes/onnx/quantize-int8-static.js";
import { loadOrt, openOrtSession } from "../../src/runtimes/ort/ort-runtime.js";
import { model, node, valueInfo } from "../fixtures/onnx-test-models.js";
import { arrayDataset, cosine, seededRandom } from "../fixtures/quantize-fixtures.js";
import { useTempDir } from "../fixtures/temp-dir.js";

const dir = useTempDir("qdq-fusion-");

function ints(name: string, values: number[]) {
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INTS, ints: values.map(BigInt) });
}

/**
 * A PP-LCNet-shaped block: Conv → BatchNormalization → Mul/Add (learnable affine) → decomposed
 * hardswish (Add 3, Clip 0..6, Mul, Div 6) → scalar Mul/Add → 1×1 Conv → squeeze-excite (GlobalAveragePool,
 * Conv, Relu, Conv, HardSigmoid, Mul) → Conv → Sigmoid.
 */
function blockModel() {
  const random = seededRandom(7);
  const values = (n: number, spread = 0.5) => Float32Array.from({ length: n }, () => (random() - 0.5) * 2 * spread);
  const constant = (name: string, dims: number[], data: Float32Array) => createTensorProto(name, "float32", dims, data);
  const conv = (inputs: string[], output: string, pads: number) => {
    const n = node("Conv", inputs, [output]);
    n.attribute.push(ints("pads", [pads, pads, pads, pads]));
    return n;
  };
  const hardSigmoid = node("HardSigmoid", ["se2"], ["gate"]);
  hardSigmoid.attribute.push(floatAttribute("alpha", 1 / 6), floatAttribute("beta", 0.5));
  const clip = node("Clip", ["plus3", "zero", "six"], ["clipped"]);
  return model(
    [
      conv(["x", "w1", "b1"], "c1", 1),
      node("BatchNormalization", ["c1", "bn_scale", "bn_bias", "bn_mean", "bn_var"], ["bn"]),
      node("Mul", ["bn", "lab_scale"], ["lab1"]),
      node("Add", ["lab1", "lab_bias"], ["h"]),
      node("Add", ["h", "three"], ["plus3"]),
      clip,
      node("Mul", ["h", "clipped"], ["product"]),
      node("Div", ["product", "six"], ["hswish"]),
      node("Mul", ["hswish", "s"], ["scaled"]),
      node("Add", ["scaled", "t"], ["affine"]),
      conv(["affine", "w2", "b2"], "c2", 0),
      node("GlobalAveragePool", ["c2"], ["pooled"]),
      conv(["pooled", "w3", "b3"], "se1", 0),
      node("Relu", ["se1"], ["se1r"]),
      conv(["se1r", "w4", "b4"], "se2", 0),
      hardSigmoid,
      node("Mul", ["c2", "gate"], ["excited"]),
      conv(["excited", "w5", "b5"], "logits", 1),
      node("Sigmoid", ["logits"], ["y"]),
    ],
    {
      inputs: [valueInfo("x", [1, 8, 16, 16])],
      outputs: [valueInfo("y", [1, 2, 16, 16])],
      opsets: [["", 13]],
      initializers: [
        constant("w1", [8, 8, 3, 3], values(576, 0.3)), constant("b1", [8], values(8)),
        constant("bn_scale", [8], Float32Array.from(values(8, 0.3), (v) => 1 + v)), constant("bn_bias", [8], values(8)),
        constant("bn_mean", [8], values(8)), constant("bn_var", [8], Float32Array.from(values(8, 0.3), (v) => 1 + v)),
        constant("lab_scale", [1], Float32Array.of(1.3)), constant("lab_bias", [1], Float32Array.of(0.2)),
        constant("three", [1], Float32Array.of(3)), constant("zero", [], Float32Array.of(0)), constant("six", [], Float32Array.of(6)),
        constant("s", [1], Float32Array.of(0.7)), constant("t", [1], Float32Array.of(-0.3)),
        constant("w2", [8, 8, 1, 1], values(64)), constant("b2", [8], values(8)),
        constant("w3", [4, 8, 1, 1], values(32)), constant("b3", [4], values(4)),
        constant("w4", [8, 4, 1, 1], values(32)), constant("b4", [8], values(8)),
        constant("w5", [2, 8, 3, 3], values(144, 0.3)), constant("b5", [2], values(2)),
      ],
    },
  );
}

function input(seed: number): Tensor {
  const random = seededRandom(seed);
  return { dtype: "float32", dims: [1, 8, 16, 16], data: Float32Array.from({ length: 8 * 256 }, () => (random() - 0.5) * 4) };
}

/** The graph onnxruntime actually runs (ORT_ENABLE_ALL, 1 thread), as op type → count. */
async function optimizedOps(path: string, optimizedPath: string): Promise<Record<string, number>> {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(path, { graphOptimizationLevel: "all", intraOpNumThreads: 1, optimizedModelFilePath: optimizedPath, logSeverityLevel: 4 });
  await session.release();
  const counts: Record<string, number> = {};
  for (const n of decodeOnnxModel(new Uint8Array(await readFile(optimizedPath))).graph!.node) counts[n.opType] = (counts[n.opType] ?? 0) + 1;
  return counts;
}

describe("static int8 QDQ in the layout onnxruntime fuses", () => {
  it("leaves no float elementwise op, activation or weight DequantizeLinear in the block onnxruntime runs", async () => {
    const floatPath = dir.join("block.onnx");
    const output = dir.join("block_int8.onnx");
    await writeOnnxModel(blockModel(), floatPath);
    const calibration = arrayDataset("block", [1, 2, 3, 4].map((seed) => ({ inputs: { x: input(seed) } })));
    const options = quantizeInt8StaticPass.optionsSchema.parse({ activationType: "uint8", reduceRange: false });
    const result = await quantizeInt8StaticPass.run(await describeOnnxArtifact(floatPath), output, options, {
      workDir: dir.path,
      calibrationData: calibration,
      openSession: (p) => openOrtSession(p),
    });
    // BatchNormalization and the Mul/Add after it go into the first Conv; Clip, Div (as Mul), the scalar Mul/Add, Relu and HardSigmoid into quantization parameters.
    expect(result.log.counts.nodesFolded).toBe(6);
    const ops = await optimizedOps(output, dir.join("block_int8.optimized.onnx"));
    expect(ops).toMatchObject({ QLinearConv: 5, QLinearAdd: 1, QLinearMul: 2, QLinearGlobalAveragePool: 1, QuantizeLinear: 1, DequantizeLinear: 1, Sigmoid: 1 });
    for (const op of ["Conv", "Add", "Mul", "Div", "Clip", "Relu", "HardSigmoid", "BatchNormalization"]) expect(ops[op] ?? 0, op).toBe(0);

    // Same function: sigmoid outputs within cosine 0.999 of the float model on unseen inputs (stated tolerance for 8-bit activations).
    const [floatSession, quantizedSession] = [await openOrtSession(floatPath), await openOrtSession(output)];
    for (const seed of [11, 12]) {
      const [expected, actual] = [await floatSession.run({ x: input(seed) }), await quantizedSession.run({ x: input(seed) })];
      expect(cosine(expected.y!.data as Float32Array, actual.y!.data as Float32Array)).toBeGreaterThan(0.999);
    }
    await floatSession.close();
    await quantizedSession.close();
  });

  it("runs a DBNet-style head (ConvTranspose kernel = stride, BN, Relu; ConvTranspose opted in) as QLinearConv with DepthToSpace on uint8, same function", async () => {
    const random = seededRandom(5);
    const values = (n: number, spread = 0.5) => Float32Array.from({ length: n }, () => (random() - 0.5) * 2 * spread);
    const constant = (name: string, dims: number[], data: Float32Array) => createTensorProto(name, "float32", dims, data);
    const transposed = (inputs: string[], output: string) => {
      const n = node("ConvTranspose", inputs, [output]);
      n.attribute.push(ints("kernel_shape", [2, 2]), ints("strides", [2, 2]));
      return n;
    };
    const conv = node("Conv", ["x", "w0", "b0"], ["c0"]);
    conv.attribute.push(ints("pads", [1, 1, 1, 1]));
    const head = model(
      [
        conv,
        node("Relu", ["c0"], ["r0"]),
        transposed(["r0", "w1", "b1"], "t1"),
        node("BatchNormalization", ["t1", "bn_scale", "bn_bias", "bn_mean", "bn_var"], ["bn"]),
        node("Relu", ["bn"], ["r1"]),
        transposed(["r1", "w2", "b2"], "t2"),
        node("Sigmoid", ["t2"], ["y"]),
      ],
      {
        inputs: [valueInfo("x", [1, 8, 16, 16])],
        outputs: [valueInfo("y", [1, 1, 64, 64])],
        opsets: [["", 11]],
        initializers: [
          constant("w0", [6, 8, 3, 3], values(432, 0.3)), constant("b0", [6], values(6)),
          constant("w1", [6, 6, 2, 2], values(144)), constant("b1", [6], values(6)),
          constant("bn_scale", [6], Float32Array.from(values(6, 0.3), (v) => 1 + v)), constant("bn_bias", [6], values(6)),
          constant("bn_mean", [6], values(6)), constant("bn_var", [6], Float32Array.from(values(6, 0.3), (v) => 1 + v)),
          constant("w2", [6, 1, 2, 2], values(24)), constant("b2", [1], values(1)),
        ],
      },
    );
    const floatPath = dir.join("head.onnx");
    const output = dir.join("head_int8.onnx");
    await writeOnnxModel(head, floatPath);
    const calibration = arrayDataset("head", [1, 2, 3, 4].map((seed) => ({ inputs: { x: input(seed) } })));
    const result = await quantizeInt8StaticPass.run(await describeOnnxArtifact(floatPath), output, quantizeInt8StaticPass.optionsSchema.parse({ activationType: "uint8", reduceRange: false, opTypes: [...defaultQdqOpTypes, "ConvTranspose"] }), {
      workDir: dir.path,
      calibrationData: calibration,
      openSession: (p) => openOrtSession(p),
    });
    expect(result.log.notes.some((n) => n.startsWith("2 ConvTranspose(s) with kernel = stride rewritten"))).toBe(true);
    const optimizedPath = dir.join("head_int8.optimized.onnx");
    const ops = await optimizedOps(output, optimizedPath);
    expect(ops).toMatchObject({ QLinearConv: 3, DepthToSpace: 2, QuantizeLinear: 1, DequantizeLinear: 1, Sigmoid: 1 });
    for (const op of ["ConvTranspose", "Conv", "Relu", "BatchNormalization"]) expect(ops[op] ?? 0, op).toBe(0);
    // The first DepthToSpace moves the uint8 codes of one QLinearConv into the next: no DequantizeLinear feeds it.
    const optimized = decodeOnnxModel(new Uint8Array(await readFile(optimizedPath))).graph!.node;
    const producer = new Map(optimized.flatMap((n) => n.output.map((o) => [o, n] as const)));
    const dequantizedInputs = optimized.filter((n) => n.opType === "DepthToSpace").map((n) => producer.get(n.input[0]!)?.opType === "DequantizeLinear");
    expect(dequantizedInputs.filter((d) => !d)).toHaveLength(1);

    const [floatSession, quantizedSession] = [await openOrtSession(floatPath), await openOrtSession(output)];
    for (const seed of [11, 12]) {
      const [expected, actual] = [await floatSession.run({ x: input(seed) }), await quantizedSession.run({ x: input(seed) })];
      expect(actual.y!.dims).toEqual([1, 1, 64, 64]);
      expect(cosine(expected.y!.data as Float32Array, actual.y!.data as Float32Array)).toBeGreaterThan(0.999);
    }
    await floatSession.close();
    await quantizedSession.close();
  });

  it("rewrites ConvTranspose with kernel = stride as 1×1 Conv + DepthToSpace computing the same float function", async () => {
    const random = seededRandom(9);
    const values = (n: number) => Float32Array.from({ length: n }, () => random() - 0.5);
    const t = node("ConvTranspose", ["x", "w", "b"], ["t"]);
    t.attribute.push(ints("kernel_shape", [3, 3]), ints("strides", [3, 3]));
    const original = model([t, node("Relu", ["t"], ["y"])], {
      inputs: [valueInfo("x", [1, 8, 16, 16])],
      outputs: [valueInfo("y", [1, 5, 48, 48])],
      opsets: [["", 11]],
      initializers: [createTensorProto("w", "float32", [8, 5, 3, 3], values(360)), createTensorProto("b", "float32", [5], values(5))],
    });
    const floatPath = dir.join("transposed.onnx");
    const preparedPath = dir.join("transposed_prepared.onnx");
    await writeOnnxModel(original, floatPath);
    const prepared = decodeOnnxModel(new Uint8Array(await readFile(floatPath)));
    expect(prepareForQdq(prepared, new NameAllocator(prepared)).transposedConvsAsConv).toBe(1);
    expect(prepared.graph!.node.map((n) => n.opType)).toEqual(["Conv", "Relu", "DepthToSpace"]);
    await writeOnnxModel(prepared, preparedPath);
    const [a, b] = [await openOrtSession(floatPath), await openOrtSession(preparedPath)];
    const feed = { x: input(3) };
    const [expected, actual] = [(await a.run(feed)).y!, (await b.run(feed)).y!];
    expect(actual.dims).toEqual(expected.dims);
    const e = expected.data as Float32Array;
    const diff = Math.max(...Array.from(actual.data as Float32Array, (v, i) => Math.abs(v - e[i]!)));
    expect(diff).toBeLessThan(1e-5);
    await a.close();
    await b.close();
  });

  /** Conv → hardswish written out (Add 3, Clip 0..6, then product and division in either order) → Conv → Sigmoid. */
  function hardSwishModel(divideFirst: boolean, clipMax = 6) {
    const random = seededRandom(13);
    const values = (n: number) => Float32Array.from({ length: n }, () => random() - 0.5);
    const conv = (inputs: string[], output: string) => {
      const n = node("Conv", inputs, [output]);
      n.attribute.push(ints("pads", [1, 1, 1, 1]));
      return n;
    };
    const tail = divideFirst
      ? [node("Div", ["clipped", "six"], ["gate"]), node("Mul", ["gate", "c1"], ["hswish"])]
      : [node("Mul", ["c1", "clipped"], ["product"]), node("Mul", ["product", "sixth"], ["hswish"])];
    return model([conv(["x", "w1", "b1"], "c1"), node("Add", ["c1", "three"], ["plus3"]), node("Clip", ["plus3", "zero", "clip_max"], ["clipped"]), ...tail, conv(["hswish", "w2", "b2"], "logits"), node("Sigmoid", ["logits"], ["y"])], {
      inputs: [valueInfo("x", [1, 8, 16, 16])],
      outputs: [valueInfo("y", [1, 4, 16, 16])],
      opsets: [["", 13]],
      initializers: [
        createTensorProto("w1", "float32", [8, 8, 3, 3], values(576)), createTensorProto("b1", "float32", [8], values(8)),
        createTensorProto("three", "float32", [], Float32Array.of(3)), createTensorProto("zero", "float32", [], Float32Array.of(0)),
        createTensorProto("clip_max", "float32", [], Float32Array.of(clipMax)), createTensorProto("six", "float32", [], Float32Array.of(6)),
        createTensorProto("sixth", "float32", [1], Float32Array.of(1 / 6)),
        createTensorProto("w2", "float32", [4, 8, 3, 3], values(288)), createTensorProto("b2", "float32", [4], values(4)),
      ],
    });
  }

  it("rewrites a float hardswish written out as HardSigmoid · x, the same function, which onnxruntime fuses into the Conv", async () => {
    for (const divideFirst of [false, true]) {
      const original = hardSwishModel(divideFirst);
      const floatPath = dir.join(`hswish-${divideFirst}.onnx`);
      const rewrittenPath = dir.join(`hswish-${divideFirst}-rewritten.onnx`);
      await writeOnnxModel(original, floatPath);
      const rewritten = decodeOnnxModel(new Uint8Array(await readFile(floatPath)));
      expect(fuseFloatHardSwish(rewritten, rewritten.graph!, new NameAllocator(rewritten))).toBe(1);
      expect(rewritten.graph!.node.map((n) => n.opType)).toEqual(["Conv", "HardSigmoid", "Mul", "Conv", "Sigmoid"]);
      const gate = rewritten.graph!.node[1]!;
      expect(gate.attribute.map((a) => a.name)).toEqual(["alpha", "beta"]);
      expect(gate.attribute[0]!.f).toBeCloseTo(1 / 6, 7);
      expect(gate.attribute[1]!.f).toBeCloseTo(0.5, 7);
      await writeOnnxModel(rewritten, rewrittenPath);
      const [a, b] = [await openOrtSession(floatPath), await openOrtSession(rewrittenPath)];
      const feed = { x: input(4) };
      const [expected, actual] = [(await a.run(feed)).y!.data as Float32Array, (await b.run(feed)).y!.data as Float32Array];
      // float32 rounding of (x + 3) / 6 against x / 6 + 0.5 only.
      expect(Math.max(...Array.from(actual, (v, i) => Math.abs(v - expected[i]!)))).toBeLessThan(1e-5);
      await a.close();
      await b.close();
      const ops = await optimizedOps(rewrittenPath, dir.join(`hswish-${divideFirst}-optimized.onnx`));
      for (const op of ["Add", "Clip", "Mul", "Div", "HardSigmoid", "HardSwish"]) expect(ops[op] ?? 0, op).toBe(0);
      expect(ops.Conv).toBe(2);
    }
    // Clip to 0..5 then ÷ 6 is not a hardswish: left alone.
    const other = hardSwishModel(false, 5);
    expect(fuseFloatHardSwish(other, other.graph!, new NameAllocator(other))).toBe(0);
    expect(other.graph!.node).toHaveLength(7);
  });

  it("folds a float scalar Mul into the next float Conv's weights, and an Add into its bias only without padding, same function", async () => {
    const random = seededRandom(17);
    const values = (n: number) => Float32Array.from({ length: n }, () => random() - 0.5);
    const conv = (inputs: string[], output: string, pads: number) => {
      const n = node("Conv", inputs, [output]);
      n.attribute.push(ints("pads", [pads, pads, pads, pads]));
      return n;
    };
    const original = model(
      [
        node("Mul", ["x", "s1"], ["m1"]), node("Add", ["m1", "t1"], ["a1"]), conv(["a1", "w1", "b1"], "c1", 0),
        node("Mul", ["s2", "c1"], ["m2"]), node("Add", ["m2", "t2"], ["a2"]), conv(["a2", "w2"], "y", 1),
      ],
      {
        inputs: [valueInfo("x", [1, 8, 16, 16])],
        outputs: [valueInfo("y", [1, 4, 16, 16])],
        opsets: [["", 13]],
        initializers: [
          createTensorProto("s1", "float32", [1], Float32Array.of(1.7)), createTensorProto("t1", "float32", [], Float32Array.of(-0.4)),
          createTensorProto("w1", "float32", [6, 8, 1, 1], values(48)), createTensorProto("b1", "float32", [6], values(6)),
          createTensorProto("s2", "float32", [1, 1, 1, 1], Float32Array.of(0.6)), createTensorProto("t2", "float32", [1], Float32Array.of(0.3)),
          createTensorProto("w2", "float32", [4, 6, 3, 3], values(216)),
        ],
      },
    );
    const floatPath = dir.join("affine.onnx");
    const foldedPath = dir.join("affine-folded.onnx");
    await writeOnnxModel(original, floatPath);
    const folded = decodeOnnxModel(new Uint8Array(await readFile(floatPath)));
    // Mul and Add into the unpadded 1×1 Conv; before the padded 3×3 one the Add moves first (t / s) and only the Mul goes in.
    expect(foldFloatAffinesIntoConv(folded, folded.graph!, new NameAllocator(folded))).toBe(3);
    expect(folded.graph!.node.map((n) => n.opType)).toEqual(["Conv", "Add", "Conv"]);
    await writeOnnxModel(folded, foldedPath);
    const [a, b] = [await openOrtSession(floatPath), await openOrtSession(foldedPath)];
    const feed = { x: input(6) };
    const [expected, actual] = [(await a.run(feed)).y!.data as Float32Array, (await b.run(feed)).y!.data as Float32Array];
    expect(Math.max(...Array.from(actual, (v, i) => Math.abs(v - expected[i]!)))).toBeLessThan(1e-5);
    await a.close();
    await b.close();
  });

  it("int8-static leaves an excluded hardswish float as HardSigmoid · x and keeps the function", async () => {
    const floatPath = dir.join("hswish-excluded.onnx");
    const output = dir.join("hswish-excluded_int8.onnx");
    await writeOnnxModel(hardSwishModel(false), floatPath);
    const calibration = arrayDataset("hswish", [1, 2, 3, 4].map((seed) => ({ inputs: { x: input(seed) } })));
    const excludeNodes = ["Conv_c1", "Add_plus3", "Clip_clipped", "Mul_product", "Mul_hswish"];
    const result = await quantizeInt8StaticPass.run(await describeOnnxArtifact(floatPath), output, quantizeInt8StaticPass.optionsSchema.parse({ activationType: "uint8", reduceRange: false, excludeNodes }), {
      workDir: dir.path,
      calibrationData: calibration,
      openSession: (p) => openOrtSession(p),
    });
    expect(result.log.notes.some((n) => n.startsWith("1 float hardswish(es) written out"))).toBe(true);
    const ops = await optimizedOps(output, dir.join("hswish-excluded_int8.optimized.onnx"));
    expect(ops).toMatchObject({ QLinearConv: 1, Conv: 1 });
    for (const op of ["Add", "Clip", "Mul", "Div", "HardSigmoid"]) expect(ops[op] ?? 0, op).toBe(0);
    const [floatSession, quantizedSession] = [await openOrtSession(floatPath), await openOrtSession(output)];
    for (const seed of [11, 12]) {
      const [expected, actual] = [await floatSession.run({ x: input(seed) }), await quantizedSession.run({ x: input(seed) })];
      expect(cosine(expected.y!.data as Float32Array, actual.y!.data as Float32Array)).toBeGreaterThan(0.999);
    }
    await floatSession.close();
    await quantizedSession.close();
  });

  it("folded parameters give y = scale · x + shift within one step of y's own, widening y's range to hold shift", () => {
    const y = computeQuantizationParams({ min: -1, max: 20 }, { type: "uint8", symmetric: false });
    const chain = { scale: 0.35, shift: -0.55 };
    const { input: x, output } = foldedParams(y, chain, "uint8");
    expect(output).toEqual(y);
    for (const value of [-2, -0.5, 0, 1.7, 30, 55]) {
      const q = Math.min(255, Math.max(0, Math.round(value / x.scale) + x.zeroPoint));
      const expected = Math.min(20.03, Math.max(-1, chain.scale * value + chain.shift));
      expect(Math.abs(output.scale * (q - output.zeroPoint) - expected)).toBeLessThanOrEqual(output.scale);
    }
    // A HardSigmoid whose calibrated output never reached 0.5 (its value at x = 0): y's range grows to hold it.
    const gate = computeQuantizationParams({ min: 0, max: 0.3 }, { type: "uint8", symmetric: false });
    const widened = foldedParams(gate, { scale: 1 / 6, shift: 0.5 }, "uint8");
    expect(widened.output.scale * (255 - widened.output.zeroPoint)).toBeGreaterThanOrEqual(0.5);
    expect(widened.input.zeroPoint).toBeGreaterThanOrEqual(0);
    expect(widened.input.zeroPoint).toBeLessThanOrEqual(255);
  });
});
