import { create } from "@bufbuild/protobuf";
import { ValueInfoProtoSchema } from "onnx-buf";
import { realpath, rm } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EdgeforgeError } from "../../src/core/errors.js";
import { renderOnnxInspection } from "../../src/cli/render/render-onnx-inspection.js";
import { analyzeOnnxGraph } from "../../src/formats/onnx/analyze-graph.js";
import { walkGraphs, walkNodes } from "../../src/formats/onnx/graph-walk.js";
import { inspectOnnx } from "../../src/formats/onnx/inspect-onnx.js";
import { readOnnxModel } from "../../src/formats/onnx/read-onnx.js";
import { encodeOnnxModel, writeOnnxModel } from "../../src/formats/onnx/write-onnx.js";
import { realOnnxModels } from "../fixtures/onnx-test-models.js";
import { makeTempDir } from "../fixtures/temp-dir.js";

/** Independent count: product of dims of every initializer and every Constant `value` tensor, walking attributes by hand. */
async function independentElementCount(path: string): Promise<number> {
  const { model } = await readOnnxModel(path, { loadExternalData: false });
  let total = 0;
  const visit = (graph: NonNullable<typeof model.graph>): void => {
    for (const t of graph.initializer) total += t.dims.reduce((a, d) => a * Number(d), 1);
    for (const node of graph.node) {
      for (const attribute of node.attribute) {
        if (node.opType === "Constant" && attribute.t) total += attribute.t.dims.reduce((a, d) => a * Number(d), 1);
        if (node.opType === "Constant" && attribute.name === "value_floats") total += attribute.floats.length;
        if (node.opType === "Constant" && attribute.name === "value_ints") total += attribute.ints.length;
        if (node.opType === "Constant" && (attribute.name === "value_float" || attribute.name === "value_int")) total += 1;
        if (attribute.g) visit(attribute.g);
        attribute.graphs.forEach(visit);
      }
    }
  };
  visit(model.graph!);
  return total;
}

const elementsOf = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

describe("inspectOnnx on real models", () => {
  it.each([
    ["det", 1_171_841],
    ["rec", 2_690_312],
    ["cls", 133_665],
  ] as const)("%s: parameter count equals MODELS.md's figure and an independent count", async (name, expected) => {
    const x = await inspectOnnx(realOnnxModels[name]);
    expect(x.parameterCount).toBe(expected);
    expect(x.parameterCount).toBe(await independentElementCount(realOnnxModels[name]));
    expect(x.parameterSources.constantNodeElements).toBe(expected);
    expect(x.format).toBe("onnx");
    expect(x.architecture).toBe("cnn");
    expect(x.byDtype[0]).toMatchObject({ dtype: "float32" });
    expect(x.memory.weightsBytes).toBe(x.byDtype.reduce((s, r) => s + r.sizeBytes, 0));
  });

  it("VAD: parameters counted through the If subgraphs, class rnn-lstm, subgraph ops in the histogram", async () => {
    const x = await inspectOnnx(realOnnxModels.vad);
    expect(x.parameterCount).toBe(await independentElementCount(realOnnxModels.vad));
    const { model } = await readOnnxModel(realOnnxModels.vad);
    const mainOnly = model.graph!.initializer.reduce((a, t) => a + t.dims.reduce((p, d) => p * Number(d), 1), 0);
    expect(x.parameterCount).toBeGreaterThan(mainOnly);
    expect(x.architecture).toBe("rnn-lstm");
    expect(x.architectureEvidence.join(" ")).toMatch(/8 LSTM/);
    const ops = new Map(x.ops.map((o) => [o.op, o.count]));
    // The main graph holds only Equal + If; everything else lives in subgraphs.
    expect(model.graph!.node.map((n) => n.opType).sort()).toEqual(["Equal", "If"]);
    expect(ops.get("LSTM")).toBe(8);
    expect(ops.get("Conv")).toBe(36);
    expect(ops.get("If")).toBe(9);
    expect(x.nodeCount).toBe([...walkNodes(model.graph!)].length);
    expect(x.subgraphCount).toBe([...walkGraphs(model.graph!)].length - 1);
    expect(x.quantizable.find((q) => q.op === "LSTM")).toMatchObject({ nodes: 8, nodesWithConstantWeights: 8 });
  });

  it("VAD: MACs resolve through the If on the input rank once the batch dim is fixed", async () => {
    const open = await inspectOnnx(realOnnxModels.vad);
    expect(open.macs.total).toBe(0);
    expect(open.macs.unresolvedNodes).toBeGreaterThan(0);
    const fixed = await inspectOnnx(realOnnxModels.vad, { shapes: { input: [1, 512], h: [2, 1, 64], c: [2, 1, 64] } });
    expect(fixed.macs.unresolvedNodes).toBe(0);
    // If_25 selects on the runtime sample rate, so one branch's 18 Conv nodes and 2 LSTMs are counted, not both.
    const byOp = new Map(fixed.macs.byOp.map((entry) => [entry.op, entry]));
    expect([...byOp.keys()].sort()).toEqual(["Conv", "LSTM"]);
    expect(byOp.get("Conv")!.nodes).toBe(18);
    // The sample rate is not known, so the costlier (8 kHz) branch counts: two stacked LSTMs of hidden 64 over 64
    // features, 4 gates × 64 × (64 + 64) per step, 2 steps for 512 samples (onnxruntime's profile: X [2, 1, 64] at 8 kHz).
    expect(byOp.get("LSTM")).toEqual({ op: "LSTM", macs: 2 * 2 * 4 * 64 * (64 + 64), nodes: 2 });
    expect(fixed.macs.total).toBe(byOp.get("Conv")!.macs + byOp.get("LSTM")!.macs);
  });

  it("rec: class cnn with attention evidence, MatMul inventory, MACs resolved at x=1x3x48x320", async () => {
    const x = await inspectOnnx(realOnnxModels.rec, { shapes: { x: [1, 3, 48, 320] } });
    expect(x.architecture).toBe("cnn");
    expect(x.architectureEvidence.join(" ")).toMatch(/2 self-attention/);
    expect(x.macs.total).toBeGreaterThan(0);
    expect(x.macs.unresolvedNodes).toBe(0);
    expect(x.macs.resolvedNodes).toBe(38 + 13);
    expect(x.macs.byOp.map((r) => r.op).sort()).toEqual(["Conv", "MatMul"]);
    // 9 MatMuls multiply by weights: per block qkv 120x360, proj 120x120, fc1 120x240, fc2 240x120 (×2), plus the 120x6625 CTC head.
    expect(x.quantizable.find((q) => q.op === "MatMul")).toEqual({
      op: "MatMul", nodes: 13, nodesWithConstantWeights: 9, nodesWithQuantizedWeights: 0, weightElements: 2 * (120 * 360 + 120 * 120 + 120 * 240 + 240 * 120) + 120 * 6625, quantizedWeightElements: 0,
    });
    // Without the override the width is symbolic: MatMuls and Convs after it stay unresolved, never guessed.
    const open = await inspectOnnx(realOnnxModels.rec);
    expect(open.macs.unresolvedNodes).toBe(51);
    expect(open.macs.total).toBe(0);
    expect(open.memory.method).toMatch(/estimate/);
    expect(x.memory.estimatedRunBytes).toBeGreaterThan(x.memory.weightsBytes);
  });

  it("rec: the first Conv's MACs match a hand count", async () => {
    const { model } = await readOnnxModel(realOnnxModels.rec);
    const graph = model.graph!;
    const first = graph.node.findIndex((n) => n.opType === "Conv");
    // Keep the nodes up to the first Conv (its weight comes from an earlier Constant node).
    graph.node = graph.node.slice(0, first + 1);
    const analysis = analyzeOnnxGraph(graph, new Map([["x", [1, 3, 48, 320]]]));
    // x 1x3x48x320, W 16x3x3x3, stride 2, pad 1: out 24x160 (floor((48+2-3)/2)+1, floor((320+2-3)/2)+1).
    expect(analysis.macs).toBe(1 * 16 * 24 * 160 * (3 * 3 * 3));
    expect(analysis.macs).toBe(1_658_880);
  });

  it.each([
    ["rec", [1, 3, 48, 320]],
    ["det", [1, 3, 96, 128]],
    ["cls", [1, 3, 48, 192]],
  ] as const)("%s: MACs equal those computed from the shapes onnxruntime actually produces at %j", async (name, shape) => {
    const { model } = await readOnnxModel(realOnnxModels[name]);
    const graph = model.graph!;
    const constants = new Map(graph.node.filter((n) => n.opType === "Constant").map((n) => [n.output[0]!, n.attribute[0]!.t!]));
    const probes = graph.node.filter((n) => ["Conv", "ConvTranspose", "MatMul"].includes(n.opType));
    const names = [...new Set(probes.flatMap((n) => [n.input[0]!, n.output[0]!]))];
    for (const value of names) graph.output.push(create(ValueInfoProtoSchema, { name: value }));
    const ort = await import("onnxruntime-node");
    const session = await ort.InferenceSession.create(encodeOnnxModel(model));
    const input = new ort.Tensor("float32", new Float32Array(elementsOf(shape)), [...shape]);
    const result = await session.run({ x: input });
    await session.release();
    const dims = (value: string) => result[value]!.dims.map(Number);
    const elements = elementsOf;
    const kernel = (node: (typeof probes)[number]) => elements(constants.get(node.input[1]!)!.dims.slice(1).map(Number));
    let expected = 0;
    for (const node of probes) {
      if (node.opType === "Conv") expected += elements(dims(node.output[0]!)) * kernel(node);
      else if (node.opType === "ConvTranspose") expected += elements(dims(node.input[0]!)) * kernel(node);
      else expected += elements(dims(node.output[0]!)) * dims(node.input[0]!).at(-1)!;
    }
    const x = await inspectOnnx(realOnnxModels[name], { shapes: { x: [...shape] } });
    expect(x.macs.unresolvedNodes).toBe(0);
    expect(x.macs.resolvedNodes).toBe(probes.length);
    expect(x.macs.total).toBe(expected);
  });

  it("counts external-data tensors from their declarations without reading them", async () => {
    const dir = await makeTempDir("onnx-inspect-");
    try {
      const { model } = await readOnnxModel(realOnnxModels.vad);
      const out = join(dir, "vad.onnx");
      const written = await writeOnnxModel(model, out, { externalData: "always" });
      const embedded = await inspectOnnx(realOnnxModels.vad);
      const external = await inspectOnnx(out);
      expect(external.parameterCount).toBe(embedded.parameterCount);
      expect(external.byDtype).toEqual(embedded.byDtype);
      expect(external.externalData).toEqual({ files: [await realpath(`${out}.data`)], tensorCount: written.externalTensorCount, sizeBytes: expect.any(Number) });
      expect(external.externalData.sizeBytes).toBeGreaterThan(0);
      expect(external.fileSizeBytes).toBe(written.modelBytes);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses bad --shape overrides with INVALID_SHAPE", async () => {
    const bad: Record<string, number[]>[] = [{ y: [1] }, { x: [1, 3, 48] }, { x: [1, 4, 48, 320] }];
    for (const shapes of bad) {
      const error = await inspectOnnx(realOnnxModels.rec, { shapes }).catch((e: unknown) => e);
      expect(EdgeforgeError.isInstance(error) && error.code).toBe("INVALID_SHAPE");
    }
  });

  it("renders aligned human text with the key figures", async () => {
    const text = renderOnnxInspection(await inspectOnnx(realOnnxModels.rec, { shapes: { x: [1, 3, 48, 320] } }));
    expect(text).toContain("2,690,312");
    expect(text).toMatch(/architecture\s+cnn/);
    expect(text).toMatch(/MACs\s+702\.47 M/);
    expect(text).toContain("memory (estimate)");
    expect(text).toMatch(/Conv\s+38\s+38\s+1,651,780/);
  });
});
