import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { toBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema } from "onnx-buf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBenchmark } from "../../src/bench/run-benchmark.js";
import { quantize } from "../../src/api/quantize.js";
import { openRuntimeSession, runtimeCatalog, runtimeForFormat } from "../../src/runtimes/catalog.js";
import { runCheckSettings } from "../../src/runtimes/runtime-settings.js";
import { realOnnxModels, tinyMatMulModel } from "../fixtures/onnx-test-models.js";
import { makeTempDir } from "../fixtures/temp-dir.js";

let dir: string;
let matmulPath: string;

beforeAll(async () => {
  dir = await makeTempDir("runtimes-");
  matmulPath = join(dir, "matmul.onnx");
  await writeFile(matmulPath, toBinary(ModelProtoSchema, tinyMatMulModel()));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe("runtime catalog", () => {
  it("is frozen and maps formats to runtimes", () => {
    expect(Object.isFrozen(runtimeCatalog)).toBe(true);
    expect(Object.keys(runtimeCatalog)).toEqual(["ort", "llama-cpp", "mlx", "openvino"]);
    expect(runtimeForFormat("onnx")).toBe("ort");
    expect(runtimeForFormat("gguf")).toBe("llama-cpp");
    expect(runtimeForFormat("mlx")).toBe("mlx");
    expect(() => runtimeForFormat("safetensors")).toThrow(expect.objectContaining({ code: "UNSUPPORTED_FEATURE" }));
  });

  it("refuses a runtime that does not read the model's format", async () => {
    await expect(openRuntimeSession("ort", "model.gguf", "gguf")).rejects.toMatchObject({ code: "INVALID_OPTION" });
  });
});

describe("ort runtime", () => {
  it("runs a model through the Session interface: specs, settings and outputs (exact for small integers)", async () => {
    await using session = await openRuntimeSession("ort", matmulPath, "onnx", { threads: 1, graphOptimizationLevel: "basic", enableCpuMemArena: false });
    const description = session.describe();
    expect(description).toMatchObject({
      runtime: "ort",
      runtimeVersion: "1.30.0",
      executionProvider: "cpu",
      intraOpThreads: 1,
      inputs: [{ name: "X", dtype: "float32", shape: ["batch", 3] }],
      outputs: [{ name: "Y", dtype: "float32", shape: ["batch", 4] }],
      settings: { graphOptimizationLevel: "basic", enableCpuMemArena: false, executionMode: "sequential" },
    });
    const outputs = await session.run({ X: { dtype: "float32", dims: [2, 3], data: new Float32Array([1, 0, 0, 1, 2, 3]) } });
    // W = 0..11 as [3, 4]: row 0 → [0, 1, 2, 3]; [1, 2, 3] · W = [32, 38, 44, 50].
    expect(outputs.Y?.dims).toEqual([2, 4]);
    expect(Array.from(outputs.Y?.data as Float32Array)).toEqual([0, 1, 2, 3, 32, 38, 44, 50]);
  });

  it("falls back through the requested providers in order and records why each was passed over", async () => {
    await using session = await openRuntimeSession("ort", realOnnxModels.cls, "onnx", { executionProviders: ["cuda", "no-such-ep", "cpu"] });
    const { executionProvider, requestedProviders, settings } = session.describe();
    expect(requestedProviders).toEqual(["cuda", "no-such-ep", "cpu"]);
    const attempts = settings.providerAttempts as { provider: string; outcome: string; reason?: string }[];
    if (attempts[0]?.outcome === "used") {
      // A machine with onnxruntime's CUDA provider installed stops at the first choice.
      expect(executionProvider).toBe("cuda");
      expect(attempts).toHaveLength(1);
      return;
    }
    expect(executionProvider).toBe("cpu");
    expect(attempts.map((a) => [a.provider, a.outcome])).toEqual([
      ["cuda", "failed"],
      ["no-such-ep", "unsupported"],
      ["cpu", "used"],
    ]);
    expect(attempts[0]?.reason).toMatch(/not bundled|load/i);
  });

  it("fails with the attempts when no requested provider loads", async () => {
    await expect(openRuntimeSession("ort", realOnnxModels.cls, "onnx", { executionProviders: ["no-such-ep"] })).rejects.toMatchObject({
      code: "RUNTIME_FAILED",
      details: { attempts: [{ provider: "no-such-ep", outcome: "unsupported" }] },
    });
  });

  it("a run-check session (one thread, no weight prepacking) computes what a default session does on an int8 model", async () => {
    const int8Path = join(dir, "matmul_int8.onnx");
    await quantize(matmulPath, { method: "int8-dynamic", output: int8Path });
    await using check = await openRuntimeSession("ort", int8Path, "onnx", runCheckSettings);
    await using usual = await openRuntimeSession("ort", int8Path, "onnx");
    expect(check.describe()).toMatchObject({ intraOpThreads: 1, settings: { prepackWeights: false } });
    const X = { dtype: "float32" as const, dims: [2, 3], data: new Float32Array([1, -0.5, 0.25, 3, 2, -1]) };
    const [fromCheck, fromUsual] = [await check.run({ X }), await usual.run({ X })];
    // Same int8 kernel on packed or unpacked weights: integer products, the same rescale.
    expect(Array.from(fromCheck.Y?.data as Float32Array)).toEqual(Array.from(fromUsual.Y?.data as Float32Array));
  });

  it("turns a wrong input into RUNTIME_FAILED with the shapes it was given", async () => {
    await using session = await openRuntimeSession("ort", matmulPath, "onnx");
    await expect(session.run({ X: { dtype: "float32", dims: [1, 5], data: new Float32Array(5) } })).rejects.toMatchObject({
      code: "RUNTIME_FAILED",
      details: { inputs: { X: { dtype: "float32", dims: [1, 5] } } },
    });
  });
});

describe("openvino runtime (openvino-node is not installed here)", () => {
  it("is reported unavailable with the reason, never replaced by another engine", async () => {
    const availability = await runtimeCatalog.openvino.detect();
    expect(availability.available).toBe(false);
    expect(availability.reason).toContain("openvino-node");
    await expect(openRuntimeSession("openvino", realOnnxModels.cls, "onnx")).rejects.toMatchObject({
      code: "RUNTIME_UNAVAILABLE",
      hint: expect.stringContaining("npm install openvino-node"),
    });
  });

  it("makes bench --runtime openvino fail up front with RUNTIME_UNAVAILABLE", async () => {
    await expect(runBenchmark({ models: [realOnnxModels.cls], runtime: "openvino", iterations: 1 })).rejects.toMatchObject({ code: "RUNTIME_UNAVAILABLE" });
  });
});
