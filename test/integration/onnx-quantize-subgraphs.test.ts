import { create } from "@bufbuild/protobuf";
import { AttributeProtoSchema, AttributeProto_AttributeType, GraphProtoSchema, TensorProto_DataType } from "onnx-buf";
import { describe, expect, it } from "vitest";
import { quantize } from "../../src/api/quantize.js";
import { walkNodes } from "../../src/formats/onnx/graph-walk.js";
import { readOnnxModel } from "../../src/formats/onnx/read-onnx.js";
import { createTensorProto } from "../../src/formats/onnx/tensor-data.js";
import { writeOnnxModel } from "../../src/formats/onnx/write-onnx.js";
import { intAttribute } from "../../src/passes/onnx/graph-edit.js";
import { describeOnnxArtifact } from "../../src/passes/onnx/onnx-pass-io.js";
import { quantizeAutoPass } from "../../src/passes/onnx/quantize-auto.js";
import { calibrateLoopBodyRanges } from "../../src/passes/onnx/loop-body-ranges.js";
import { quantizeInt8StaticPass } from "../../src/passes/onnx/quantize-int8-static.js";
import { openOrtSession } from "../../src/runtimes/ort/ort-runtime.js";
import { model, node, realOnnxModels, valueInfo } from "../fixtures/onnx-test-models.js";
import type { NamedTensors } from "../../src/core/tensor.js";
import { arrayDataset, cosine, runVadSideBySide, seededRandom, speechLikeFrames, speechLikeFrames8k, vadStreamFeeds } from "../fixtures/quantize-fixtures.js";
import { useTempDir } from "../fixtures/temp-dir.js";

const dir = useTempDir("int8-subgraphs-");
const frames = 300;

async function nodesByScope(path: string) {
  const { model: proto } = await readOnnxModel(path);
  return [...walkNodes(proto.graph!)].map(({ node: n, scope }) => ({ node: n, scope: scope.path, graph: scope.graph }));
}

/** Speech probability of every frame, float vs candidate, over `frames` frames of speech-like audio. */
async function speechProbabilities(candidate: string): Promise<{ float: number[]; quantized: number[] }> {
  const steps = await runVadSideBySide(realOnnxModels.vad, candidate, frames, speechLikeFrames(frames));
  return {
    float: steps.map((s) => (s.float.output!.data as Float32Array)[0]!),
    quantized: steps.map((s) => (s.candidate.output!.data as Float32Array)[0]!),
  };
}

describe("int8-dynamic inside Silero VAD's If subgraphs", () => {
  it("turns all 8 LSTMs into int8 DynamicQuantizeLSTM, logs each subgraph, and keeps speech probabilities within 0.03 over 300 frames", async () => {
    const output = dir.join("vad_lstm_int8.onnx");
    const report = await quantize(realOnnxModels.vad, { method: "int8-dynamic", output });
    expect(report.nodesQuantized).toBe(8);
    expect(report.log.counts.nodesQuantizedInSubgraphs).toBe(8);
    expect(report.log.notes).toContain("subgraph If_25/then_branch/If_177/then_branch: 2 of 2 candidate node(s) quantized (LSTM×2); none stayed float");
    expect(report.log.notes.some((n) => n.startsWith("output loaded and run once"))).toBe(true);

    const nodes = await nodesByScope(output);
    const lstms = nodes.filter(({ node: n }) => n.opType === "DynamicQuantizeLSTM");
    expect(nodes.filter(({ node: n }) => n.opType === "LSTM")).toHaveLength(0);
    expect(lstms).toHaveLength(8);
    for (const { node: n, scope, graph } of lstms) {
      expect(scope).toMatch(/^If_25\/(then|else)_branch\/If_\d+\/(then|else)_branch$/);
      expect(n.domain).toBe("com.microsoft");
      const w = graph.initializer.find((t) => t.name === n.input[1]);
      const r = graph.initializer.find((t) => t.name === n.input[2]);
      expect(w?.dataType).toBe(TensorProto_DataType.INT8);
      expect(w?.dims.map(Number)).toEqual([1, 64, 256]);
      expect(r?.dims.map(Number)).toEqual([1, 64, 256]);
    }
    // 8 LSTMs × (W + R) of 64×256 float32 → int8 (+ one scale and zero point each).
    expect(report.weightBytesBefore).toBe(8 * 2 * 64 * 256 * 4);
    expect(report.weightBytesAfter).toBeLessThan(report.weightBytesBefore! / 3.9);

    const { float, quantized } = await speechProbabilities(output);
    expect(Math.max(...float)).toBeGreaterThan(0.9);
    expect(Math.min(...float)).toBeLessThan(0.1);
    for (let i = 0; i < frames; i++) expect(Math.abs(float[i]! - quantized[i]!)).toBeLessThan(0.03);
  });

  it("with Conv too, quantizes every Conv and LSTM of the subgraphs (44 nodes) and agrees on speech/non-speech for ≥ 95 % of 300 frames", async () => {
    const output = dir.join("vad_conv_lstm_int8.onnx");
    const report = await quantize(realOnnxModels.vad, { method: "int8-dynamic", output, passOptions: { opTypes: ["Conv", "LSTM"] } });
    expect(report.nodesQuantized).toBe(44);
    expect(report.log.notes).toContain("subgraph If_25/then_branch: 18 of 18 candidate node(s) quantized (Conv×18); none stayed float");
    const ops = (await nodesByScope(output)).map(({ node: n }) => n.opType);
    expect(ops.filter((op) => op === "ConvInteger")).toHaveLength(36);
    expect(ops.filter((op) => op === "DynamicQuantizeLSTM")).toHaveLength(8);
    expect(ops.filter((op) => op === "Conv" || op === "LSTM")).toHaveLength(0);
    const { float, quantized } = await speechProbabilities(output);
    const agree = float.filter((p, i) => p > 0.5 === quantized[i]! > 0.5).length;
    expect(agree).toBeGreaterThanOrEqual(0.95 * frames);
  });
});

/** 64 frames of other speech-like audio, each with the recurrent state the float model had reached there. */
async function vadCalibration(sampleRate: 16000 | 8000 = 16000): Promise<{ inputs: NamedTensors }[]> {
  return (await vadStreamFeeds(64, 17, sampleRate)).map((inputs) => ({ inputs }));
}

describe("int8-static inside Silero VAD's If subgraphs", () => {
  it("calibrates branch activations through the If outputs, puts QDQ in the 16 kHz branch, leaves the branch no sample ran float, and stays within 0.1 over 300 frames", async () => {
    const output = dir.join("vad_static_int8.onnx");
    // The spectral front end (STFT Conv, normalisation Conv, the two Convs reading the log spectrum) stays float:
    // static per-tensor ranges crush the quiet frames' features there (quantizing it too: speech/non-speech agrees on ~50 %).
    const options = quantizeInt8StaticPass.optionsSchema.parse({ excludeNodes: ["Conv_73", "Conv_132", "Conv_137", "Conv_139", "Concat_136"] });
    const result = await quantizeInt8StaticPass.run(await describeOnnxArtifact(realOnnxModels.vad), output, options, {
      workDir: dir.path,
      calibrationData: arrayDataset("vad-calibration", await vadCalibration()),
      openSession: (p) => openOrtSession(p),
    });
    const notes = result.log.notes.join("\n");
    expect(notes).toMatch(/subgraph If_25\/then_branch: \d+ of \d+ candidate node\(s\) quantized \(Conv×14/);
    expect(notes).toMatch(/subgraph If_25\/else_branch: 0 of \d+ .*Conv_\d+ \(not calibrated: no calibration sample ran it\).*; no calibration sample ran this graph: add samples that take it/);
    expect(notes).toMatch(/8 LSTM\(s\) → com.microsoft.DynamicQuantizeLSTM/);
    expect(notes).toMatch(/output loaded and run once/);

    const nodes = await nodesByScope(output);
    const inScope = (scope: string, op: string) => nodes.filter((n) => n.scope === scope && n.node.opType === op);
    const producers = new Map(nodes.filter((n) => n.scope === "If_25/then_branch").flatMap(({ node: n }) => n.output.map((o) => [o, n.opType] as const)));
    const convs = inScope("If_25/then_branch", "Conv");
    const quantizedConvs = convs.filter((n) => producers.get(n.node.input[0]!) === "DequantizeLinear" && producers.get(n.node.input[1]!) === "DequantizeLinear");
    expect(quantizedConvs).toHaveLength(14);
    expect(inScope("If_25/then_branch", "QuantizeLinear").length).toBeGreaterThan(10);
    expect(inScope("If_25/else_branch", "QuantizeLinear")).toHaveLength(0);
    expect(nodes.filter((n) => n.node.opType === "DynamicQuantizeLSTM")).toHaveLength(8);

    const { float, quantized } = await speechProbabilities(output);
    const agree = float.filter((p, i) => p > 0.5 === quantized[i]! > 0.5).length;
    expect(agree).toBeGreaterThanOrEqual(0.98 * frames);
    for (let i = 0; i < frames; i++) expect(Math.abs(float[i]! - quantized[i]!)).toBeLessThan(0.1);
  });
  it("quantizes both branches when the calibration data takes both (8 and 16 kHz frames), and keeps 8 kHz speech decisions", async () => {
    const output = dir.join("vad_static_both_rates.onnx");
    // Each branch's spectral front end stays float, as above (the 8 kHz branch's own node names).
    const frontEnds = ["Conv_73", "Conv_132", "Conv_137", "Conv_139", "Concat_136", "Conv_547", "Conv_606", "Conv_611", "Conv_613", "Concat_610"];
    const calibration = [...(await vadCalibration(16000)), ...(await vadCalibration(8000))];
    const result = await quantizeInt8StaticPass.run(await describeOnnxArtifact(realOnnxModels.vad), output, quantizeInt8StaticPass.optionsSchema.parse({ excludeNodes: frontEnds }), {
      workDir: dir.path,
      calibrationData: arrayDataset("vad-calibration-both-rates", calibration),
      openSession: (p) => openOrtSession(p),
    });
    const notes = result.log.notes.join("\n");
    expect(notes).toMatch(/subgraph If_25\/else_branch: [1-9]\d* of \d+ candidate node\(s\) quantized \(Conv×14/);
    expect(notes).not.toContain("no calibration sample ran this graph");
    const nodes = await nodesByScope(output);
    expect(nodes.filter((n) => n.scope === "If_25/else_branch" && n.node.opType === "QuantizeLinear").length).toBeGreaterThan(10);

    const steps = await runVadSideBySide(realOnnxModels.vad, output, frames, speechLikeFrames8k(frames), 8000);
    const [float, quantized] = [steps.map((s) => (s.float.output!.data as Float32Array)[0]!), steps.map((s) => (s.candidate.output!.data as Float32Array)[0]!)];
    // The float model hears speech in this audio at 8 kHz too, so agreement is not all-silence agreeing.
    expect(float.filter((p) => p > 0.5).length).toBeGreaterThan(0.1 * frames);
    expect(float.filter((p, i) => p > 0.5 === quantized[i]! > 0.5).length).toBeGreaterThanOrEqual(0.95 * frames);
    for (let i = 0; i < frames; i++) expect(Math.abs(float[i]! - quantized[i]!)).toBeLessThan(0.1);
  });
});

describe("auto inside Silero VAD's If subgraphs", () => {
  it("finds the branch nodes to keep float by itself (scoped ids), where plain int8-static without exclusions loses the speech decisions", async () => {
    const output = dir.join("vad_auto_int8.onnx");
    const plain = dir.join("vad_plain_int8.onnx");
    const context = { workDir: dir.path, calibrationData: arrayDataset("vad-calibration", await vadCalibration()), openSession: (p: string) => openOrtSession(p) };
    const input = await describeOnnxArtifact(realOnnxModels.vad);
    await quantizeInt8StaticPass.run(input, plain, quantizeInt8StaticPass.optionsSchema.parse({}), context);
    const result = await quantizeAutoPass.run(input, output, quantizeAutoPass.optionsSchema.parse({ metric: "cosine", maxDrop: 0.002 }), context);
    const notes = result.log.notes.join("\n");
    expect(notes).toMatch(/subgraph If_25\/then_branch: [1-9]\d* of \d+ candidate node\(s\) quantized \(.*Conv×\d+.*\); stayed float: .*\(kept float for the accuracy target\)/);
    expect(notes).toMatch(/^kept float32: If_25\/then_branch\/Conv_\d+ \(int8 would lose/m);
    expect(notes).toMatch(/8 LSTM\(s\) → com.microsoft.DynamicQuantizeLSTM/);
    const kept = result.log.notes.filter((n) => n.startsWith("kept float32:"));
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(28);

    const agreement = async (candidate: string) => {
      const { float, quantized } = await speechProbabilities(candidate);
      return { agree: float.filter((p, i) => p > 0.5 === quantized[i]! > 0.5).length, maxDiff: Math.max(...float.map((p, i) => Math.abs(p - quantized[i]!))) };
    };
    const [withAuto, withoutExclusions] = [await agreement(output), await agreement(plain)];
    expect(withoutExclusions.agree).toBeLessThan(0.7 * frames);
    expect(withAuto.agree).toBeGreaterThanOrEqual(0.98 * frames);
    expect(withAuto.maxDiff).toBeLessThan(0.1);
  });
});

describe("DynamicQuantizeLSTM layout", () => {
  it("quantizes a bidirectional LSTM per direction (outputs within cosine 0.995 of float; a wrong layout scrambles the gates)", async () => {
    const [hidden, inputSize, steps, directions] = [8, 5, 6, 2];
    const random = seededRandom(9);
    const values = (n: number) => Float32Array.from({ length: n }, () => random() - 0.5);
    const lstm = node("LSTM", ["X", "W", "R", "B"], ["Y", "Y_h", "Y_c"]);
    lstm.attribute.push(intAttribute("hidden_size", hidden), create(AttributeProtoSchema, { name: "direction", type: AttributeProto_AttributeType.STRING, s: new TextEncoder().encode("bidirectional") }));
    const m = model([lstm], {
      inputs: [valueInfo("X", [steps, 1, inputSize])],
      outputs: [valueInfo("Y", [steps, directions, 1, hidden]), valueInfo("Y_h", [directions, 1, hidden]), valueInfo("Y_c", [directions, 1, hidden])],
      initializers: [
        createTensorProto("W", "float32", [directions, 4 * hidden, inputSize], values(directions * 4 * hidden * inputSize)),
        // The second direction's recurrent weights 10× larger: one scale for both would flatten them.
        createTensorProto("R", "float32", [directions, 4 * hidden, hidden], values(directions * 4 * hidden * hidden).map((v, i) => (i >= 4 * hidden * hidden ? v * 10 : v))),
        createTensorProto("B", "float32", [directions, 8 * hidden], values(directions * 8 * hidden)),
      ],
    });
    const input = dir.join("lstm_bidirectional.onnx");
    await writeOnnxModel(m, input);
    for (const perChannel of [false, true]) {
      const output = dir.join(`lstm_bidirectional_int8_${perChannel}.onnx`);
      const report = await quantize(input, { method: "int8-dynamic", output, passOptions: { perChannel } });
      expect(report.nodesQuantized).toBe(1);
      const x = { dtype: "float32" as const, dims: [steps, 1, inputSize], data: values(steps * inputSize).map((v) => v * 4) };
      const [float, quantized] = [await openOrtSession(input), await openOrtSession(output)];
      try {
        const [a, b] = [await float.run({ X: x }), await quantized.run({ X: x })];
        for (const name of ["Y", "Y_h", "Y_c"]) expect(cosine(a[name]!.data as Float32Array, b[name]!.data as Float32Array)).toBeGreaterThanOrEqual(0.995);
      } finally {
        await float.close();
        await quantized.close();
      }
    }
  });
});

/** Run `input` and `output` on the same feeds and return the cosine of output `name`. */
async function outputCosine(input: string, output: string, feeds: NamedTensors, name: string): Promise<number> {
  const [float, quantized] = [await openOrtSession(input), await openOrtSession(output)];
  try {
    const [a, b] = [await float.run(feeds), await quantized.run(feeds)];
    return cosine(a[name]!.data as Float32Array, b[name]!.data as Float32Array);
  } finally {
    await float.close();
    await quantized.close();
  }
}

function graphAttribute(name: string, graph: ReturnType<typeof create<typeof GraphProtoSchema>>) {
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.GRAPH, g: graph });
}

/** A Loop body whose iteration i adds the column sums of X[0..i] · W_body to its [1, 16] state: the MatMul's input grows. */
function growingPrefixBody(name: string, names: { iteration: string; cond: string; condOut: string; stateIn: string; stateOut: string }) {
  const int64 = (tensor: string, data: bigint[]) => createTensorProto(tensor, "int64", [data.length], BigInt64Array.from(data));
  return create(GraphProtoSchema, {
    name,
    node: [
      node("Identity", [names.cond], [names.condOut]),
      node("Add", [names.iteration, "one"], ["rows"]),
      node("Unsqueeze", ["rows", "axis0"], ["ends"]),
      node("Slice", ["X", "zero", "ends", "axis0"], ["prefix"]),
      node("MatMul", ["prefix", "W_body"], ["a"]),
      node("ReduceSum", ["a", "axis0"], ["summed"]),
      node("Add", [names.stateIn, "summed"], [names.stateOut]),
    ],
    input: [valueInfo(names.iteration, [], TensorProto_DataType.INT64), valueInfo(names.cond, [], TensorProto_DataType.BOOL), valueInfo(names.stateIn, [1, 16])],
    output: [valueInfo(names.condOut, [], TensorProto_DataType.BOOL), valueInfo(names.stateOut, [1, 16])],
    initializer: [createTensorProto("one", "int64", [], BigInt64Array.of(1n)), int64("axis0", [0n]), int64("zero", [0n])],
  });
}

/** The min and max of rows 0..rows−1 of X [·, 16] times W [16, 16] (W as its float32 raw bytes). */
function productRange(xData: Float32Array, wBytes: Uint8Array, rows: number): { min: number; max: number } {
  const wData = new Float32Array(wBytes.buffer.slice(wBytes.byteOffset, wBytes.byteOffset + wBytes.byteLength));
  let min = Infinity;
  let max = -Infinity;
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < 16; col++) {
      let sum = 0;
      for (let k = 0; k < 16; k++) sum += xData[row * 16 + k]! * wData[k * 16 + col]!;
      min = Math.min(min, sum);
      max = Math.max(max, sum);
    }
  }
  return { min, max };
}

function staticContext(source: string, samples: NamedTensors[]) {
  return { workDir: dir.path, calibrationData: arrayDataset(source, samples.map((inputs) => ({ inputs }))), openSession: (p: string) => openOrtSession(p) };
}

describe("weights inside a Loop body", () => {
  const random = seededRandom(21);
  const values = (n: number) => Float32Array.from({ length: n }, () => random() - 0.5);
  const loopInput = () => dir.join("loop.onnx");
  const x = { dtype: "float32" as const, dims: [1, 16], data: values(16).map((v) => v * 2) };

  it("int8-dynamic quantizes a MatMul on an outer-scope weight and a Gemm on a body-local one", async () => {
    const gemm = node("Gemm", ["a", "W_local"], ["b"]);
    const body = create(GraphProtoSchema, {
      name: "body",
      node: [node("Identity", ["cond_in"], ["cond_out"]), node("MatMul", ["v_in", "W_outer"], ["a"]), gemm, node("Tanh", ["b"], ["v_out"])],
      input: [valueInfo("iteration", [], TensorProto_DataType.INT64), valueInfo("cond_in", [], TensorProto_DataType.BOOL), valueInfo("v_in", [1, 16])],
      output: [valueInfo("cond_out", [], TensorProto_DataType.BOOL), valueInfo("v_out", [1, 16])],
      initializer: [createTensorProto("W_local", "float32", [16, 16], values(256))],
    });
    const loop = node("Loop", ["trips", "", "v0"], ["v_final"]);
    loop.attribute.push(graphAttribute("body", body));
    const m = model([loop], {
      inputs: [valueInfo("v0", [1, 16])],
      outputs: [valueInfo("v_final", [1, 16])],
      initializers: [createTensorProto("trips", "int64", [], BigInt64Array.of(3n)), createTensorProto("W_outer", "float32", [16, 16], values(256))],
    });
    await writeOnnxModel(m, loopInput());

    const output = dir.join("loop_int8.onnx");
    const report = await quantize(loopInput(), { method: "int8-dynamic", output });
    expect(report.nodesQuantized).toBe(2);
    expect(report.log.notes).toContain("subgraph Loop_v_final/body: 2 of 2 candidate node(s) quantized (MatMul×1, Gemm×1); none stayed float");
    const nodes = await nodesByScope(output);
    expect(nodes.filter((n) => n.scope === "Loop_v_final/body" && n.node.opType === "DynamicQuantizeMatMul")).toHaveLength(2);
    expect(await outputCosine(loopInput(), output, { v0: x }, "v_final")).toBeGreaterThanOrEqual(0.99);
  });

  it("int8-static calibrates the body through scan outputs stacked over its 3 iterations and puts QDQ around both weighted ops", async () => {
    const output = dir.join("loop_static.onnx");
    const samples = [0.5, 1, 2, 3].map((gain) => ({ v0: { ...x, data: x.data.map((v, i) => v * gain * (i % 2 ? -1 : 1)) } }));
    const result = await quantizeInt8StaticPass.run(await describeOnnxArtifact(loopInput()), output, quantizeInt8StaticPass.optionsSchema.parse({}), staticContext("loop-calibration", samples));
    expect(result.log.notes).toContain("subgraph Loop_v_final/body: 2 of 2 candidate node(s) quantized (MatMul×1, Gemm×1); none stayed float");
    const body = (await nodesByScope(output)).filter((n) => n.scope === "Loop_v_final/body");
    // Both weights as int8 behind DequantizeLinear; the body's activations (state in, MatMul out) quantized too.
    expect(body.filter((n) => n.node.opType === "QuantizeLinear").length).toBeGreaterThanOrEqual(2);
    for (const op of ["MatMul", "Gemm"]) {
      const weighted = body.find((n) => n.node.opType === op)!;
      const producers = weighted.node.input.slice(0, 2).map((name) => body.find((n) => n.node.output.includes(name))?.node.opType);
      expect(producers).toEqual(["DequantizeLinear", "DequantizeLinear"]);
    }
    // The calibration outputs were removed again: the Loop has its one output, the body its cond and state.
    const { model: written } = await readOnnxModel(output);
    expect(written.graph!.node.find((n) => n.opType === "Loop")!.output).toEqual(["v_final"]);
    expect(body[0]!.graph.output.map((o) => o.name)).toEqual(["cond_out", "v_out"]);
    expect(await outputCosine(loopInput(), output, { v0: x }, "v_final")).toBeGreaterThanOrEqual(0.99);
  });

  /** h = v0 · W_main, then a Loop of `trips` iterations over `body` from state h to v_final; X [4, 16] and W_body are the body's to read. */
  const writeLoopAfterMatMul = async (name: string, body: ReturnType<typeof growingPrefixBody>, trips: number) => {
    const loop = node("Loop", ["trips", "", "h"], ["v_final"]);
    loop.attribute.push(graphAttribute("body", body));
    const m = model([node("MatMul", ["v0", "W_main"], ["h"]), loop], {
      inputs: [valueInfo("v0", [1, 16]), valueInfo("X", [4, 16])],
      outputs: [valueInfo("v_final", [1, 16])],
      initializers: [createTensorProto("trips", "int64", [], BigInt64Array.of(BigInt(trips))), createTensorProto("W_main", "float32", [16, 16], values(256)), createTensorProto("W_body", "float32", [16, 16], values(256))],
    });
    const input = dir.join(name);
    await writeOnnxModel(m, input);
    return { input, feeds: { v0: x, X: { dtype: "float32" as const, dims: [4, 16], data: values(64) } } };
  };

  it("int8-static calibrates a body whose values change shape between iterations on min/max reduced inside it, and says so", async () => {
    // Iteration i reads rows 0..i of X: the MatMul's input grows, so its values cannot be stacked.
    const body = growingPrefixBody("body", { iteration: "iteration", cond: "cond_in", condOut: "cond_out", stateIn: "v_in", stateOut: "v_out" });
    const { input, feeds } = await writeLoopAfterMatMul("growing.onnx", body, 4);
    const output = dir.join("growing_static.onnx");
    const result = await quantizeInt8StaticPass.run(await describeOnnxArtifact(input), output, quantizeInt8StaticPass.optionsSchema.parse({}), staticContext("growing-calibration", [feeds]));
    const note = result.log.notes.find((n) => n.startsWith("subgraph Loop_v_final/body:"));
    // Before, the body stayed float ("could not stack over the iterations"): its MatMul reads 1, 2, 3, then 4 rows.
    expect(note).toMatch(/^subgraph Loop_v_final\/body: 1 of \d+ candidate node\(s\) quantized \(MatMul×1\);.*values change shape between iterations \(Inconsistent shape[^)]*\): calibrated on their min and max reduced inside the body$/);
    expect(result.log.notes).toContain("main graph: 1 of 1 candidate node(s) quantized (MatMul×1); none stayed float");
    const bodyNodes = (await nodesByScope(output)).filter((n) => n.scope === "Loop_v_final/body");
    expect(bodyNodes.filter((n) => n.node.opType === "QuantizeLinear").length).toBeGreaterThan(0);
    // No calibration reduction is left behind in the body.
    expect(bodyNodes.filter((n) => n.node.opType === "ReduceMin" || n.node.opType === "ReduceMax")).toHaveLength(0);
    expect(await outputCosine(input, output, feeds, "v_final")).toBeGreaterThanOrEqual(0.99);
    // Percentile ranges need the values themselves: the body gets min/max, and the note says so.
    const percentile = await quantizeInt8StaticPass.run(await describeOnnxArtifact(input), dir.join("growing_percentile.onnx"), quantizeInt8StaticPass.optionsSchema.parse({ calibrationMethod: "percentile" }), staticContext("growing-calibration", [feeds]));
    expect(percentile.log.notes.find((n) => n.startsWith("subgraph Loop_v_final/body:"))).toContain("(min/max, not percentile: that needs the values themselves)");
    // The range is the exact min/max over every iteration: the prefixes' rows are X's rows, so that of X·W_body.
    const { model: read } = await readOnnxModel(input);
    const ranges = await calibrateLoopBodyRanges(read, ["a"], staticContext("growing-calibration", [feeds]));
    const { min, max } = productRange(feeds.X.data, read.graph!.initializer.find((t) => t.name === "W_body")!.rawData, 4);
    expect(ranges.get("a")!.min).toBeCloseTo(min, 4);
    expect(ranges.get("a")!.max).toBeCloseTo(max, 4);
  });

  it("int8-static calibrates such a body nested in another Loop's body, whose trip count changes with the outer iteration (zero included)", async () => {
    // Outer iteration j runs the inner Loop j times (0, 1, 2); inner iteration i reads rows 0..i of X.
    const inner = growingPrefixBody("inner", { iteration: "i", cond: "cond_i", condOut: "cond_i_out", stateIn: "w_in", stateOut: "w_out" });
    const innerLoop = node("Loop", ["j", "", "v_in"], ["w_final"]);
    innerLoop.attribute.push(graphAttribute("body", inner));
    const outer = create(GraphProtoSchema, {
      name: "outer",
      node: [node("Identity", ["cond_j"], ["cond_j_out"]), innerLoop, node("Tanh", ["w_final"], ["v_out"])],
      input: [valueInfo("j", [], TensorProto_DataType.INT64), valueInfo("cond_j", [], TensorProto_DataType.BOOL), valueInfo("v_in", [1, 16])],
      output: [valueInfo("cond_j_out", [], TensorProto_DataType.BOOL), valueInfo("v_out", [1, 16])],
    });
    const { input, feeds } = await writeLoopAfterMatMul("nested.onnx", outer, 3);
    const output = dir.join("nested_static.onnx");
    const result = await quantizeInt8StaticPass.run(await describeOnnxArtifact(input), output, quantizeInt8StaticPass.optionsSchema.parse({}), staticContext("nested-calibration", [feeds]));
    const innerPath = "Loop_v_final/body/Loop_w_final/body";
    expect(result.log.notes.find((n) => n.startsWith(`subgraph ${innerPath}:`))).toMatch(/: 1 of \d+ candidate node\(s\) quantized \(MatMul×1\);.*calibrated on their min and max reduced inside the body$/);
    const innerNodes = (await nodesByScope(output)).filter((n) => n.scope === innerPath);
    expect(innerNodes.find((n) => n.node.opType === "MatMul")!.node.input.map((name) => innerNodes.find((p) => p.node.output.includes(name))?.node.opType)).toEqual(["DequantizeLinear", "DequantizeLinear"]);
    // No calibration node is left behind in either body.
    const calibrationOps = new Set(["ReduceMin", "ReduceMax", "Concat", "Reshape", "Constant"]);
    expect((await nodesByScope(output)).filter((n) => n.scope !== "" && calibrationOps.has(n.node.opType))).toHaveLength(0);
    expect(await outputCosine(input, output, feeds, "v_final")).toBeGreaterThanOrEqual(0.99);
    // The range is the exact min/max over every iteration that ran: rows 0..1 of X (the inner Loop runs at most twice) times W_body.
    const { model: read } = await readOnnxModel(input);
    const ranges = await calibrateLoopBodyRanges(read, ["a"], staticContext("nested-calibration", [feeds]));
    const { min, max } = productRange(feeds.X.data, read.graph!.initializer.find((t) => t.name === "W_body")!.rawData, 2);
    expect(ranges.get("a")!.min).toBeCloseTo(min, 4);
    expect(ranges.get("a")!.max).toBeCloseTo(max, 4);
    // A body no sample ran gets no range: with one outer trip the inner Loop runs zero times.
    const once = { ...feeds };
    const oneTrip = await readOnnxModel(input);
    oneTrip.model.graph!.initializer.find((t) => t.name === "trips")!.rawData = new Uint8Array(BigInt64Array.of(1n).buffer);
    expect((await calibrateLoopBodyRanges(oneTrip.model, ["a"], staticContext("nested-calibration", [once]))).has("a")).toBe(false);
  });
});

describe("weights inside a Scan body", () => {
  /** h' = tanh(x_t·W + h·U), y_t = h' — an Elman cell run by Scan over a [6, 1, 8] sequence. */
  async function writeElmanScan(path: string): Promise<void> {
    const random = seededRandom(33);
    const values = (n: number, gain: number) => Float32Array.from({ length: n }, () => (random() - 0.5) * gain);
    const body = create(GraphProtoSchema, {
      name: "cell",
      node: [node("MatMul", ["x_t", "W"], ["xw"]), node("MatMul", ["h_in", "U"], ["hu"]), node("Add", ["xw", "hu"], ["pre"]), node("Tanh", ["pre"], ["h_out"]), node("Identity", ["h_out"], ["y_t"])],
      input: [valueInfo("h_in", [1, 16]), valueInfo("x_t", [1, 8])],
      output: [valueInfo("h_out", [1, 16]), valueInfo("y_t", [1, 16])],
    });
    const scan = node("Scan", ["h0", "xs"], ["h_last", "ys"]);
    scan.attribute.push(graphAttribute("body", body), intAttribute("num_scan_inputs", 1));
    scan.attribute.push(create(AttributeProtoSchema, { name: "scan_output_axes", type: AttributeProto_AttributeType.INTS, ints: [0n] }));
    const m = model([scan], {
      inputs: [valueInfo("h0", [1, 16]), valueInfo("xs", [6, 1, 8])],
      outputs: [valueInfo("h_last", [1, 16]), valueInfo("ys", [6, 1, 16])],
      initializers: [createTensorProto("W", "float32", [8, 16], values(128, 1)), createTensorProto("U", "float32", [16, 16], values(256, 0.6))],
    });
    await writeOnnxModel(m, path);
  }
  /** One sequence; with `outlier`, one input value 200× the others. */
  const sequence = (seed: number, outlier = false) => {
    const xs = Float32Array.from({ length: 48 }, (_, i) => Math.sin(i * 0.7 + seed) * 2);
    if (outlier) xs[5] = 400;
    return { h0: { dtype: "float32" as const, dims: [1, 16], data: new Float32Array(16) }, xs: { dtype: "float32" as const, dims: [6, 1, 8], data: xs } };
  };

  it("int8-static calibrates a recurrent cell run by Scan (state and input slices stacked over 6 steps) and keeps its outputs within cosine 0.99", async () => {
    const input = dir.join("scan.onnx");
    await writeElmanScan(input);
    const output = dir.join("scan_static.onnx");
    const result = await quantizeInt8StaticPass.run(await describeOnnxArtifact(input), output, quantizeInt8StaticPass.optionsSchema.parse({}), staticContext("scan-calibration", [1, 2, 3, 4].map((seed) => sequence(seed))));
    expect(result.log.notes.find((n) => n.startsWith("subgraph Scan_h_last/body:"))).toMatch(/^subgraph Scan_h_last\/body: \d+ of \d+ candidate node\(s\) quantized \(.*MatMul×2/);
    const { model: written } = await readOnnxModel(output);
    const writtenScan = written.graph!.node.find((n) => n.opType === "Scan")!;
    expect(writtenScan.output).toEqual(["h_last", "ys"]);
    expect(writtenScan.attribute.find((a) => a.name === "scan_output_axes")!.ints).toEqual([0n]);
    const feeds = sequence(7);
    expect(await outputCosine(input, output, feeds, "ys")).toBeGreaterThanOrEqual(0.99);
    expect(await outputCosine(input, output, feeds, "h_last")).toBeGreaterThanOrEqual(0.99);
  });

  it("auto measures the body's nodes through stacked scan outputs and keeps float the MatMul whose input range an outlier widened", async () => {
    const input = dir.join("scan_for_auto.onnx");
    await writeElmanScan(input);
    const context = { ...staticContext("scan-calibration", [sequence(1, true), sequence(2), sequence(3)]), evaluationData: arrayDataset("scan-evaluation", [4, 5, 6, 7].map((seed) => ({ inputs: sequence(seed) }))) };
    const result = await quantizeAutoPass.run(await describeOnnxArtifact(input), dir.join("scan_auto.onnx"), quantizeAutoPass.optionsSchema.parse({ metric: "cosine", maxDrop: 0.0005 }), context);
    const notes = result.log.notes;
    // Fully quantized, the widened x_t range costs ~0.06 cosine; the ranking puts x_t's MatMul first.
    expect(notes.find((n) => n.startsWith("metric cosine:"))).toMatch(/fully quantized dropped 0\.0[1-9]/);
    expect(notes).toContain("subgraph Scan_h_last/body: 1 of 2 candidate node(s) quantized (MatMul×1); stayed float: MatMul_xw (kept float for the accuracy target)");
    expect(notes.filter((n) => n.startsWith("kept float32:")).map((n) => n.split(" ")[2])).toEqual(["Scan_h_last/body/MatMul_xw"]);
  });
});

describe("a main-graph value an If branch reads", () => {
  it("keeps its name: neither the Mul-by-constant after a Conv nor the Relu after it is folded away (the output loads and runs)", async () => {
    const random = seededRandom(23);
    const values = (n: number) => Float32Array.from({ length: n }, () => random() - 0.5);
    // The then branch reads the Conv's own output, the else branch the Mul's.
    const branch = (name: string, reads: string) => create(GraphProtoSchema, { name, node: [node("Identity", [reads], [`${name}_out`])], output: [valueInfo(`${name}_out`, [1, 4, 8, 8])] });
    const ifNode = node("If", ["flag"], ["branch_out"]);
    ifNode.attribute.push(
      create(AttributeProtoSchema, { name: "then_branch", type: AttributeProto_AttributeType.GRAPH, g: branch("then", "c0") }),
      create(AttributeProtoSchema, { name: "else_branch", type: AttributeProto_AttributeType.GRAPH, g: branch("else", "c") }),
    );
    const m = model([node("Conv", ["x", "W1"], ["c0"]), node("Mul", ["c0", "s"], ["c"]), node("Relu", ["c"], ["r"]), node("Conv", ["r", "W2"], ["y"]), ifNode], {
      inputs: [valueInfo("x", [1, 3, 8, 8]), valueInfo("flag", [], TensorProto_DataType.BOOL)],
      outputs: [valueInfo("y", [1, 4, 8, 8]), valueInfo("branch_out", [1, 4, 8, 8])],
      initializers: [createTensorProto("s", "float32", [1, 4, 1, 1], Float32Array.of(0.5, 2, 1, 3)), createTensorProto("W1", "float32", [4, 3, 1, 1], values(12)), createTensorProto("W2", "float32", [4, 4, 1, 1], values(16))],
    });
    const input = dir.join("if_reads_outer.onnx");
    await writeOnnxModel(m, input);
    const sample = { x: { dtype: "float32" as const, dims: [1, 3, 8, 8], data: values(192) }, flag: { dtype: "bool" as const, dims: [], data: Uint8Array.of(1) } };
    const result = await quantizeInt8StaticPass.run(await describeOnnxArtifact(input), dir.join("if_reads_outer_int8.onnx"), quantizeInt8StaticPass.optionsSchema.parse({}), {
      workDir: dir.path,
      calibrationData: arrayDataset("if-calibration", [{ inputs: sample }]),
      openSession: (p) => openOrtSession(p),
    });
    // The first Conv; the second writes the model output, which onnxruntime cannot fuse into QLinearConv, so it stays float.
    expect(result.log.counts.nodesQuantized).toBe(1);
    expect(result.log.notes.some((n) => n.startsWith("output loaded and run once"))).toBe(true);
  });
});
