import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { quantize } from "../../src/api/quantize.js";
import { hashSha256 } from "../../src/core/hashing.js";
import { walkTensors } from "../../src/formats/onnx/graph-walk.js";
import { readOnnxModel } from "../../src/formats/onnx/read-onnx.js";
import { streamedRawData } from "../../src/formats/onnx/streamed-raw-data.js";
import { writeOnnxModel } from "../../src/formats/onnx/write-onnx.js";
import { describeOnnxArtifact, readPassInput, stampProducer } from "../../src/passes/onnx/onnx-pass-io.js";
import { quantizeInt8DynamicOptionsSchema, rewriteInt8Dynamic } from "../../src/passes/onnx/quantize-int8-dynamic.js";
import { convertFp16OptionsSchema, rewriteFp16 } from "../../src/passes/onnx/convert-fp16.js";
import { quantizeInt4OptionsSchema, rewriteInt4 } from "../../src/passes/onnx/quantize-int4.js";
import { quantizeInt8StaticOptionsSchema, quantizeInt8StaticPass, rewriteInt8Static } from "../../src/passes/onnx/quantize-int8-static.js";
import { chooseAuto, quantizeAutoOptionsSchema, quantizeAutoPass } from "../../src/passes/onnx/quantize-auto.js";
import type { PassContext } from "../../src/passes/pass.js";
import type { Dataset } from "../../src/datasets/dataset.js";
import { openOrtSession } from "../../src/runtimes/ort/ort-runtime.js";
import { arrayDataset, seededRandom } from "../fixtures/quantize-fixtures.js";
import { writeBertShapedModel } from "../fixtures/bert-shaped-model.js";
import { realOnnxModels } from "../fixtures/onnx-test-models.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";

const temp = useTempDir("edgeforge-quantize-streamed-");

type StreamedMethod = "int8-dynamic" | "fp16" | "int4" | "int8-static" | "auto";

/** The model a rewrite makes from weights read into memory (the path before streaming). */
async function inMemoryOutput(path: string, method: StreamedMethod, passOptions: Record<string, unknown>, out: string): Promise<Buffer> {
  const input = await describeOnnxArtifact(path);
  const inputFile = await readPassInput(input, out, { workDir: temp.path }, { liftFloat16: method !== "fp16" });
  if (method === "fp16") rewriteFp16(inputFile, convertFp16OptionsSchema.parse(passOptions), {});
  else if (method === "int4") await rewriteInt4(inputFile, quantizeInt4OptionsSchema.parse(passOptions), { workDir: temp.path });
  else if (method === "int8-static") await rewriteInt8Static(inputFile, quantizeInt8StaticOptionsSchema.parse(passOptions), staticContext(path));
  else if (method === "auto") inputFile.model = (await chooseAuto(inputFile, quantizeAutoOptionsSchema.parse(passOptions), staticContext(path))).model;
  else rewriteInt8Dynamic(inputFile, quantizeInt8DynamicOptionsSchema.parse(passOptions), {});
  // As writePassOutput does before writing.
  stampProducer(inputFile.model);
  await writeOnnxModel(inputFile.model, out);
  return readFile(out);
}

/** Calibration for int8-static and auto: three generated samples of the model's input (the same ones on every call). */
function staticContext(path: string): PassContext {
  const shapes: Record<string, Record<string, number[]>> = { [realOnnxModels.det]: { x: [1, 3, 128, 160] }, [realOnnxModels.rec]: { x: [1, 3, 48, 160] } };
  const bertShaped = path.includes("bert") ? { x: [4, 768] } : undefined;
  return { workDir: temp.path, calibrationData: syntheticDataset(path, shapes[path] ?? bertShaped ?? {}), openSession: (p) => openOrtSession(p) };
}

function syntheticDataset(path: string, shapes: Record<string, number[]>): Dataset {
  const [name, dims] = Object.entries(shapes)[0] ?? ["Input3", [1, 1, 28, 28]];
  const samples = [1, 2, 3].map((seed) => {
    const random = seededRandom(seed);
    return { inputs: { [name]: { dtype: "float32" as const, dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => random()) } } };
  });
  return arrayDataset(`synthetic ${path}`, samples);
}

/** A 1-layer BERT-shaped model read with its six weights streamed (left in the file). */
async function streamedBertShaped(name: string) {
  const path = temp.join(name);
  await writeBertShapedModel(path, 1);
  const inputFile = await readPassInput(await describeOnnxArtifact(path), temp.join("unused.onnx"), { workDir: temp.path }, { streamWeights: true });
  const weights = inputFile.model.graph!.initializer.filter((tensor) => streamedRawData(tensor) !== undefined);
  expect(weights).toHaveLength(6);
  return { path, inputFile, weights };
}

async function expectSameAsInMemory(path: string, passOptions: Record<string, unknown>, name: string, method: StreamedMethod = "int8-dynamic"): Promise<void> {
  const streamed = temp.join(`${name}-streamed.onnx`);
  // quantize() streams the weights, and loads and runs the output once in onnxruntime.
  const report =
    method === "int8-static"
      ? await quantizeInt8StaticPass.run(await describeOnnxArtifact(path), streamed, quantizeInt8StaticOptionsSchema.parse(passOptions), staticContext(path))
      : method === "auto"
        ? await quantizeAutoPass.run(await describeOnnxArtifact(path), streamed, quantizeAutoOptionsSchema.parse(passOptions), staticContext(path))
        : await quantize(path, { method, output: streamed, passOptions });
  expect(report.log.notes.join("\n")).toMatch(/output loaded and run once/);
  const reference = await inMemoryOutput(path, method, passOptions, temp.join(`${name}-in-memory.onnx`));
  expect(Buffer.compare(await readFile(streamed), reference)).toBe(0);
}

describe("every ONNX quantizer with streamed weights writes the same bytes as from weights in memory", () => {
  it("BERT-base layer shapes: per tensor and per column, int8 and uint8, reduced range", async () => {
    const path = temp.join("bert.onnx");
    await writeBertShapedModel(path, 1);
    // The quantized weights really are streamed: computed from the file while the output is written.
    const inputFile = await readPassInput(await describeOnnxArtifact(path), temp.join("unused.onnx"), { workDir: temp.path }, { streamWeights: true });
    rewriteInt8Dynamic(inputFile, quantizeInt8DynamicOptionsSchema.parse({}), {});
    const quantized = inputFile.model.graph!.initializer.filter((tensor) => tensor.name.endsWith("_quantized"));
    expect(quantized).toHaveLength(6);
    expect(quantized.every((tensor) => streamedRawData(tensor) !== undefined)).toBe(true);
    for (const [index, passOptions] of [{}, { perChannel: true }, { weightType: "uint8" }, { perChannel: true, weightType: "uint8", reduceRange: true }].entries()) {
      await expectSameAsInMemory(path, passOptions, `bert-${index}`);
    }
    // 28 MB: hashed on the worker thread while it is read; the lineage still names the input's digest.
    const report = await quantize(path, { method: "int8-dynamic", output: temp.join("bert-lineage.onnx") });
    expect(report.output.lineage.at(-1)?.inputSha256).toBe(hashSha256(await readFile(path)));
    expect(report.output.sha256).toBe(hashSha256(await readFile(report.output.path)));
    // quantize() starts that hash before its own checks; one that fails (here: the output is the input) stops it.
    await expect(quantize(path, { method: "int8-dynamic", output: path })).rejects.toMatchObject({ code: "OUTPUT_EQUALS_INPUT" });
  });

  it("a pass uses the input hash its caller started (PassContext.inputSha256), only for that file", async () => {
    const path = temp.join("bert-started.onnx");
    await writeBertShapedModel(path, 1);
    const input = await describeOnnxArtifact(path);
    const digest = Promise.resolve("a".repeat(64));
    const started = await readPassInput(input, temp.join("unused.onnx"), { workDir: temp.path, inputSha256: { path: input.path, digest } }, { streamWeights: true });
    expect(started.pendingSha256).toBe(digest);
    expect(started.sha256).toBeUndefined();
    const other = await readPassInput(input, temp.join("unused.onnx"), { workDir: temp.path, inputSha256: { path: `${input.path}.other`, digest } }, { streamWeights: true });
    expect(await other.pendingSha256).toBe(hashSha256(await readFile(path)));
  });

  it("PP-OCRv4 rec (MatMul weights in Constant nodes) and det (Conv, per tensor streamed, per channel read in)", async () => {
    await expectSameAsInMemory(realOnnxModels.rec, {}, "rec");
    await expectSameAsInMemory(realOnnxModels.det, { opTypes: ["Conv"] }, "det");
    await expectSameAsInMemory(realOnnxModels.det, { opTypes: ["Conv"], perChannel: true }, "det-per-channel");
  });

  it("a model with external data: weights streamed from the .data file, output with external data again", async () => {
    const path = temp.join("bert-embedded.onnx");
    await writeBertShapedModel(path, 1);
    const external = temp.join("external", "bert.onnx");
    const { model } = await readOnnxModel(path);
    await writeOnnxModel(model, external, { externalData: "always" });
    const streamed = temp.join("external", "bert-streamed.onnx");
    const report = await quantize(external, { method: "int8-dynamic", output: streamed });
    expect(report.output.files).toEqual([streamed, `${streamed}.data`]);
    const reference = temp.join("external-reference", "bert-streamed.onnx");
    const inputFile = await readPassInput(await describeOnnxArtifact(external), reference, { workDir: temp.path }, {});
    rewriteInt8Dynamic(inputFile, quantizeInt8DynamicOptionsSchema.parse({}), {});
    stampProducer(inputFile.model);
    await writeOnnxModel(inputFile.model, reference, { externalData: "always" });
    // Same file names in two folders: the models (which name their data file) and the data files are identical.
    expect(Buffer.compare(await readFile(`${streamed}.data`), await readFile(`${reference}.data`))).toBe(0);
    expect(Buffer.compare(await readFile(streamed), await readFile(reference))).toBe(0);
  });

  it("mnist-8 (IR 3, weights listed as graph inputs, a Reshape of a weight folded)", async () => {
    await expectSameAsInMemory(sharedModels.mnist8Onnx, { opTypes: ["MatMul", "Conv"] }, "mnist");
  });

  it("fp16 on BERT-base layer shapes, PP-OCRv4 det and mnist-8", async () => {
    const path = temp.join("bert-fp16.onnx");
    await writeBertShapedModel(path, 1);
    const inputFile = await readPassInput(await describeOnnxArtifact(path), temp.join("unused.onnx"), { workDir: temp.path }, { streamWeights: true });
    rewriteFp16(inputFile, convertFp16OptionsSchema.parse({}), {});
    const converted = inputFile.model.graph!.initializer;
    expect(converted.length).toBeGreaterThan(0);
    expect(converted.every((tensor) => streamedRawData(tensor) !== undefined)).toBe(true);
    await expectSameAsInMemory(path, {}, "bert-fp16", "fp16");
    await expectSameAsInMemory(realOnnxModels.det, {}, "det-fp16", "fp16");
    await expectSameAsInMemory(sharedModels.mnist8Onnx, {}, "mnist-fp16", "fp16");
  });

  it("int4 on BERT-base layer shapes (each float32 weight read only while it is quantized) and PP-OCRv4 rec", async () => {
    const { path, inputFile, weights } = await streamedBertShaped("bert-int4.onnx");
    await rewriteInt4(inputFile, quantizeInt4OptionsSchema.parse({ threads: 1 }), { workDir: temp.path });
    // Every weight became MatMulNBits and left the model without its values ever being kept in it.
    expect(inputFile.model.graph!.node.filter((node) => node.opType === "MatMulNBits")).toHaveLength(6);
    expect(weights.every((tensor) => streamedRawData(tensor) !== undefined)).toBe(true);
    expect(inputFile.model.graph!.initializer.some((tensor) => weights.includes(tensor))).toBe(false);
    await expectSameAsInMemory(path, {}, "bert-int4", "int4");
    await expectSameAsInMemory(path, { symmetric: false, blockSize: 64 }, "bert-int4-asymmetric", "int4");
    await expectSameAsInMemory(realOnnxModels.rec, {}, "rec-int4", "int4");
  });

  it("int8-static on PP-OCRv4 det and rec and mnist-8 (weights stay in the file through calibration and are read one at a time)", async () => {
    const inputFile = await readPassInput(await describeOnnxArtifact(realOnnxModels.rec), temp.join("unused.onnx"), { workDir: temp.path }, { streamWeights: true });
    const graph = inputFile.model.graph!;
    // rec's weights are Constant nodes: each streamed tensor with the op that reads it.
    const readerOf = (output: string) => graph.node.find((node) => node.input.includes(output))?.opType;
    const streamed = [...walkTensors(graph)].filter((visit) => streamedRawData(visit.tensor) !== undefined).map((visit) => ({ tensor: visit.tensor, reader: readerOf(visit.node!.output[0]!) }));
    expect(streamed.filter((s) => s.reader === "MatMul").length).toBeGreaterThanOrEqual(4);
    await rewriteInt8Static(inputFile, quantizeInt8StaticOptionsSchema.parse({}), staticContext(realOnnxModels.rec));
    // Calibration wrote its copy from the file, and each quantized weight was read without being kept: only Conv
    // weights the preparation rewrote (BatchNormalization and scale folded in) were read into the model.
    const kept = streamed.filter((s) => streamedRawData(s.tensor) === undefined);
    expect(streamed.filter((s) => s.reader === "MatMul").every((s) => streamedRawData(s.tensor) !== undefined)).toBe(true);
    expect(kept.every((s) => s.reader === "Conv")).toBe(true);
    expect(kept.length).toBeLessThan(streamed.length);
    await expectSameAsInMemory(realOnnxModels.det, {}, "det-static", "int8-static");
    await expectSameAsInMemory(realOnnxModels.rec, {}, "rec-static", "int8-static");
    await expectSameAsInMemory(sharedModels.mnist8Onnx, {}, "mnist-static", "int8-static");
  });

  it("auto on BERT-base layer shapes: every candidate copy and the sensitivity run leave the weights in the file", async () => {
    const { path, inputFile, weights } = await streamedBertShaped("bert-auto.onnx");
    // A budget the fully quantized chain misses (it drops ~0.0002 cosine): ranking and bisection run.
    const options = { metric: "cosine", maxDrop: 0.0001 };
    const { log } = await chooseAuto(inputFile, quantizeAutoOptionsSchema.parse(options), staticContext(path));
    expect(log.notes.filter((note) => note.startsWith("kept float32:")).length).toBeGreaterThan(0);
    expect(weights.every((tensor) => streamedRawData(tensor) !== undefined)).toBe(true);
    await expectSameAsInMemory(path, options, "bert-auto", "auto");
  });
});
