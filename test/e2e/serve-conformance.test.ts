import { createServer, type Server } from "node:http";
import { TensorProto_DataType } from "onnx-buf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkOipConformance } from "../../src/api/serve.js";
import { writeOnnxModel } from "../../src/formats/onnx/write-onnx.js";
import { startInferenceServer, type InferenceServer } from "../../src/server/start-server.js";
import { createTensorProto } from "../../src/formats/onnx/tensor-data.js";
import { model, node, realOnnxModels, valueInfo } from "../fixtures/onnx-test-models.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";
import { runCli } from "../fixtures/run-cli.js";
import { testToken } from "../fixtures/serve-test-helpers.js";

/** `edgeforge conformance` against our server (every datatype onnxruntime takes) and against a server that is not OIP. */
const temp = useTempDir("serve-conformance-");
const identityTypes: [string, TensorProto_DataType][] = [
  ["bool", TensorProto_DataType.BOOL],
  ["uint8", TensorProto_DataType.UINT8],
  ["uint16", TensorProto_DataType.UINT16],
  ["uint32", TensorProto_DataType.UINT32],
  ["uint64", TensorProto_DataType.UINT64],
  ["int8", TensorProto_DataType.INT8],
  ["int16", TensorProto_DataType.INT16],
  ["int32", TensorProto_DataType.INT32],
  ["int64", TensorProto_DataType.INT64],
  ["fp16", TensorProto_DataType.FLOAT16],
  ["fp32", TensorProto_DataType.FLOAT],
  ["fp64", TensorProto_DataType.DOUBLE],
];

let server: InferenceServer;
let impostor: Server;
let impostorUrl: string;

beforeAll(async () => {
  const identityPath = temp.join("identity-all-dtypes.onnx");
  const identity = model(
    identityTypes.map(([name]) => node("Identity", [`x_${name}`], [`y_${name}`])),
    { inputs: identityTypes.map(([name, type]) => valueInfo(`x_${name}`, ["n"], type)), outputs: identityTypes.map(([name, type]) => valueInfo(`y_${name}`, ["n"], type)) },
  );
  await writeOnnxModel(identity, identityPath);
  // y = x · 0: the conformance values' negative entries give −0, which JSON writes as 0.
  const zerosPath = temp.join("negative-zeros.onnx");
  const zeros = model([node("Mul", ["x", "zero"], ["y"])], { inputs: [valueInfo("x", ["n"])], outputs: [valueInfo("y", ["n"])], initializers: [createTensorProto("zero", "float32", [1], Float32Array.of(0))] });
  await writeOnnxModel(zeros, zerosPath);
  const models = [{ name: "identity", path: identityPath }, { name: "digits", path: sharedModels.mnist8Onnx }, { name: "zeros", path: zerosPath }, { name: "vad", path: realOnnxModels.vad }];
  server = await startInferenceServer({ port: 0, threads: 1, models }, { env: { EDGEFORGE_SERVE_TOKENS: testToken } });
  await server.loaded;
  // Answers 200 {} to everything: a conformance check must fail it.
  impostor = createServer((_request, response) => response.writeHead(200, { "content-type": "application/json" }).end("{}"));
  await new Promise<void>((resolve) => impostor.listen(0, "127.0.0.1", resolve));
  const address = impostor.address();
  impostorUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});

afterAll(async () => {
  await server?.close();
  await new Promise((resolve) => impostor?.close(resolve));
});

describe("edgeforge conformance", () => {
  it("our server passes every check, exercising all twelve datatypes onnxruntime takes, JSON and binary", async () => {
    const result = await runCli(["conformance", server.url, "--model", "identity", "--model", "digits", "--json"], { timeoutMs: 120_000 });
    expect(result.stderr).toMatch(/checks passed; datatypes exercised: BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64/);
    expect(result.code).toBe(0);
    const record = JSON.parse(result.stdout) as { passed: boolean; checks: { name: string; status: string }[] };
    expect(record.passed).toBe(true);
    expect(record.checks.map((c) => c.name)).toEqual(expect.arrayContaining(["health/live", "health/ready", "server metadata", "infer binary extension (identity)", "error: unknown model", "error: malformed JSON (digits)"]));
    expect(record.checks.every((c) => c.status === "pass")).toBe(true);
  });

  it("finds the models through the repository index (an admin route: token given) when none are named", async () => {
    const result = await checkOipConformance(server.url, { timeoutMs: 30_000, token: testToken });
    expect(result.checks.find((c) => c.name === "repository index")).toMatchObject({ status: "pass", detail: "4 ready model(s)" });
    // Silero VAD needs longer audio than the 2 samples a dynamic dim gets by default (see --shape below).
    expect(result.checks.filter((c) => c.status === "fail").map((c) => c.name)).toEqual(["infer json (vad: FP32, INT64)", "infer binary extension (vad)"]);
  });

  it("takes --shape for dynamic dims a model needs larger (Silero VAD: 512 samples), and counts −0 in binary as JSON's 0", async () => {
    const result = await runCli(["conformance", server.url, "--model", "vad", "--model", "zeros", "--shape", "input=1x512", "--shape", "h=2x1x64", "--shape", "c=2x1x64", "--json"], { timeoutMs: 120_000 });
    const record = JSON.parse(result.stdout) as { passed: boolean; checks: { name: string; status: string; detail: string }[] };
    expect(record.checks.filter((c) => c.status !== "pass")).toEqual([]);
    expect(record.checks.find((c) => c.name === "infer binary extension (zeros)")?.detail).toContain("−0 and +0 alike");
    expect(result.code).toBe(0);
    const typo = await checkOipConformance(server.url, { models: ["vad"], shapes: { inptu: [1, 512] }, timeoutMs: 30_000 });
    expect(typo.checks.find((c) => c.name === "input shapes")).toMatchObject({ status: "fail", detail: "--shape names no input of the models checked: inptu" });
    const misfit = await checkOipConformance(server.url, { models: ["vad"], shapes: { input: [1, 512, 3] }, timeoutMs: 30_000 });
    expect(misfit.checks.find((c) => c.name === "input shapes (vad)")).toMatchObject({ status: "fail", detail: "input: --shape 1x512x3 does not fit the declared [-1, -1]" });
  });

  it("fails a server that does not speak the protocol, with exit code 3 and a table of failures", async () => {
    const result = await runCli(["conformance", impostorUrl, "--model", "m"], { timeoutMs: 60_000 });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/health\/live\s+FAIL/);
    expect(result.stderr).toMatch(/error: unknown model\s+FAIL\s+HTTP 200/);
  });
});
