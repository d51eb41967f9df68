import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { toBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema } from "onnx-buf";
import { describe, expect, it } from "vitest";
import { quantize } from "../../src/api/quantize.js";
import { hashFileSha256 } from "../../src/core/hashing.js";
import { writeNpy } from "../../src/datasets/npy.js";
import { createTensorProto } from "../../src/formats/onnx/tensor-data.js";
import { checkOutputRuns } from "../../src/passes/onnx/check-output-runs.js";
import { writePassOutput } from "../../src/passes/onnx/onnx-pass-io.js";
import { openOrtSession } from "../../src/runtimes/ort/ort-runtime.js";
import { model, node, realOnnxModels, valueInfo } from "../fixtures/onnx-test-models.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";

const temp = useTempDir("edgeforge-quantize-bad-");

/** Every failure leaves the folder as it was: no output, no temp file. */
async function expectNothingWritten(folder: string, allowed: string[]): Promise<void> {
  expect((await readdir(folder)).sort()).toEqual([...allowed].sort());
}

describe("quantize refuses bad input clearly and writes nothing", () => {
  it("a model with no quantizable op", async () => {
    const folder = temp.join("no-ops");
    await mkdir(folder);
    const path = join(folder, "relu.onnx");
    await writeFile(path, toBinary(ModelProtoSchema, model([node("Relu", ["x"], ["y"])], { inputs: [valueInfo("x", [1, 4])], outputs: [valueInfo("y", [1, 4])] })));
    await expect(quantize(path, { method: "int8-dynamic" })).rejects.toMatchObject({ code: "NOTHING_TO_DO", hint: expect.any(String) });
    await expect(quantize(path, { method: "int4" })).rejects.toMatchObject({ code: "NOTHING_TO_DO" });
    // Silero VAD: convolutions and LSTMs, no MatMul: nothing for 4-bit.
    await expect(quantize(realOnnxModels.vad, { method: "int4", output: join(folder, "vad_q4.onnx") })).rejects.toMatchObject({ code: "NOTHING_TO_DO" });
    await expectNothingWritten(folder, ["relu.onnx"]);
  });

  it("a model with an operator ONNX does not define", async () => {
    const folder = temp.join("unknown-op");
    await mkdir(folder);
    const path = join(folder, "foo.onnx");
    const m = model([node("MatMul", ["x", "x"], ["m"]), node("FooBar", ["m"], ["y"])], { inputs: [valueInfo("x", [4, 4])], outputs: [valueInfo("y", [4, 4])] });
    await writeFile(path, toBinary(ModelProtoSchema, m));
    for (const method of ["fp16", "int8-dynamic", "int4"] as const) {
      await expect(quantize(path, { method })).rejects.toMatchObject({ code: "UNSUPPORTED_OP", message: expect.stringMatching(/FooBar/) });
    }
    await expectNothingWritten(folder, ["foo.onnx"]);
  });

  it("an empty calibration folder, and one whose tensors have the wrong shape", async () => {
    const folder = temp.join("calibration");
    const empty = join(folder, "empty");
    const wrong = join(folder, "wrong-shape");
    await mkdir(empty, { recursive: true });
    await mkdir(wrong, { recursive: true });
    const output = join(folder, "rec_int8.onnx");
    await expect(quantize(realOnnxModels.rec, { method: "int8-static", output, calibration: empty })).rejects.toMatchObject({ code: "DATASET_INVALID" });
    // The rec model takes x [N, 3, 48, W]: 32-pixel-high lines do not fit.
    for (let i = 0; i < 2; i++) await writeNpy(join(wrong, `line${i}.npy`), { dtype: "float32", dims: [1, 3, 32, 100], data: new Float32Array(3 * 32 * 100) });
    const error = await quantize(realOnnxModels.rec, { method: "int8-static", output, calibration: wrong }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "DATASET_INVALID", message: expect.stringMatching(/float32\[1,3,32,100\].*expects float32\[.*,3,48,/) });
    await expectNothingWritten(folder, ["empty", "wrong-shape"]);
  });

  it("an output path that is the input, however it is spelled", async () => {
    const folder = temp.join("same");
    await mkdir(folder);
    const path = join(folder, "cls.onnx");
    await writeFile(path, await readFile(realOnnxModels.cls));
    const before = await hashFileSha256(path);
    for (const output of [path, join(folder, "..", "same", "cls.onnx")]) {
      await expect(quantize(path, { method: "fp16", output })).rejects.toMatchObject({ code: "OUTPUT_EQUALS_INPUT" });
    }
    expect(await hashFileSha256(path)).toBe(before);
    await expectNothingWritten(folder, ["cls.onnx"]);
  });

  it("options that do not fit the method", async () => {
    await expect(quantize(realOnnxModels.rec, { method: "int4", passOptions: { blockSize: 48 } })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await expect(quantize(realOnnxModels.rec, { method: "fp16", passOptions: { blockSize: 32 } })).rejects.toMatchObject({ code: "INVALID_OPTION", message: expect.stringMatching(/blockSize/) });
  });
});

describe("every output is loaded and run in onnxruntime before a pass reports success", () => {
  it("an output onnxruntime refuses is an INTERNAL error (writePassOutput checks it before the rename: nothing replaced); a valid one runs on generated inputs", async () => {
    const folder = temp.join("refused-output");
    await mkdir(folder);
    const good = join(folder, "good.onnx");
    await writeFile(good, toBinary(ModelProtoSchema, model([node("Relu", ["x"], ["y"])], { inputs: [valueInfo("x", ["N", 3, "H", "W"])], outputs: [valueInfo("y", ["N", 3, "H", "W"])] })));
    const path = join(folder, "bad-mul.onnx");
    // Structurally valid, but Mul of [1, 3] by [1, 4] fails onnxruntime's shape inference at load.
    const bad = model([node("Mul", ["x", "w"], ["y"])], { inputs: [valueInfo("x", [1, 3])], outputs: [valueInfo("y", [1, 3])], initializers: [createTensorProto("w", "float32", [1, 4], new Float32Array(4))] });
    await writeFile(path, toBinary(ModelProtoSchema, bad));
    const context = { workDir: folder, openSession: (p: string) => openOrtSession(p) };
    await expect(checkOutputRuns(path, good, context)).rejects.toMatchObject({ code: "INTERNAL", message: expect.stringMatching(/does not load/) });
    await expect(checkOutputRuns(good, good, context)).resolves.toMatch(/loaded and run once in ort/);
    // Written: checked before the rename, so a refused output never replaces the file at its path.
    const output = join(folder, "out.onnx");
    await writeFile(output, "the previous output");
    const input = { format: "onnx" as const, path: good, files: [good], sizeBytes: 0, lineage: [] };
    const inputFile = { model: bad, path: good, folder, fileSizeBytes: 0, externalTensors: [], externalDataLoaded: false, sha256: "0".repeat(64) };
    const spec = { input, inputFile, passId: "test.refused", passVersion: "1", options: {}, context, log: { counts: {}, notes: [] } };
    await expect(writePassOutput(bad, output, spec)).rejects.toMatchObject({ code: "INTERNAL", message: expect.stringContaining(`${output} does not load`) });
    expect(await readFile(output, "utf8")).toBe("the previous output");
    await expectNothingWritten(folder, ["good.onnx", "bad-mul.onnx", "out.onnx"]);
  });

  it("a model with custom-domain ops the runtime lacks: the input's own error, not a bug report, and no output", async () => {
    const folder = temp.join("custom-op");
    await mkdir(folder);
    const output = join(folder, "sr_fp16.onnx");
    await expect(quantize(sharedModels.contribOpsOnnx, { method: "fp16", output })).rejects.toMatchObject({
      code: "UNSUPPORTED_OP",
      message: expect.stringMatching(/SuperResolutionPreProcess/),
    });
    await expectNothingWritten(folder, []);
  });
});
