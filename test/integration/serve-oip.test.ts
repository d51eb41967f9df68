import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRuntimeSession } from "../../src/runtimes/catalog.js";
import { startInferenceServer, type InferenceServer } from "../../src/server/start-server.js";
import { readBinaryResponse, recModelPath, seededFloats, testToken, waitFor } from "../fixtures/serve-test-helpers.js";

/** PP-OCRv4 rec behind the Open Inference Protocol, compared with the same model run in this process. */
const dims = [1, 3, 48, 320];
const input = seededFloats(3 * 48 * 320);
const maxBodyBytes = 4 * 1024 * 1024;

let server: InferenceServer;
let reference: Float32Array;
let referenceDims: number[];

const post = (path: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
const inferBody = (overrides: Record<string, unknown> = {}): string => JSON.stringify({ id: "r1", inputs: [{ name: "x", shape: dims, datatype: "FP32", data: Array.from(input), ...overrides }] });

const binaryInfer = (url: string): Promise<Response> => {
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: "x", shape: dims, datatype: "FP32", parameters: { binary_data_size: input.byteLength } }], parameters: { binary_data_output: true } }));
  return fetch(`${url}/v2/models/rec/infer`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream", "inference-header-content-length": String(header.byteLength) },
    body: Buffer.concat([header, Buffer.from(input.buffer, input.byteOffset, input.byteLength)]),
  });
};
/** Exact equality, element by element (no tolerance). */
const sameFloats = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && a.every((value, i) => Object.is(value, b[i]));

beforeAll(async () => {
  // One compute thread on both sides, so the served logits can be compared exactly.
  server = await startInferenceServer({ port: 0, threads: 1, models: [{ name: "rec", path: recModelPath }], queueDepth: 1, maxBodyBytes, drainMs: 2000 }, { env: { EDGEFORGE_SERVE_TOKENS: testToken } });
  await using session = await openRuntimeSession("ort", recModelPath, "onnx", { threads: 1 });
  const results = await session.run({ x: { dtype: "float32", dims, data: input } });
  const output = Object.values(results)[0]!;
  reference = output.data as Float32Array;
  referenceDims = output.dims;
  await server.loaded;
});

afterAll(async () => {
  await server?.close();
});

describe("edgeforge serve: Open Inference Protocol on PP-OCRv4 rec", () => {
  it("answers health, server and model metadata", async () => {
    expect(await (await fetch(`${server.url}/v2/health/live`)).json()).toEqual({ live: true });
    expect(await (await fetch(`${server.url}/v2/health/ready`)).json()).toEqual({ ready: true });
    const meta = (await (await fetch(`${server.url}/v2`)).json()) as { extensions: string[] };
    expect(meta.extensions).toContain("binary_tensor_data");
    const model = await (await fetch(`${server.url}/v2/models/rec/versions/1`)).json();
    expect(model).toMatchObject({ name: "rec", versions: ["1"], inputs: [{ name: "x", datatype: "FP32", shape: [-1, 3, 48, -1] }] });
    expect((await fetch(`${server.url}/v2/models/rec/ready`)).status).toBe(200);
  });

  it("returns the same logits as onnxruntime in process (JSON: every number parses back to the same float32)", async () => {
    const response = await post("/v2/models/rec/infer", inferBody());
    expect(response.status).toBe(200);
    const body = (await response.json()) as { id: string; model_name: string; model_version: string; outputs: { shape: number[]; datatype: string; data: number[] }[] };
    expect(body).toMatchObject({ id: "r1", model_name: "rec", model_version: "1" });
    expect(body.outputs[0]!.shape).toEqual(referenceDims);
    expect(body.outputs[0]!.datatype).toBe("FP32");
    expect(sameFloats(Float32Array.from(body.outputs[0]!.data), reference)).toBe(true);
  });

  it("speaks the binary tensor extension both ways (the same logits, byte for byte, request after request)", async () => {
    // Two in a row, then one overlapping a JSON request: the response buffer the server reuses never mixes bodies.
    for (const concurrentJson of [false, false, true]) {
      const [response, json] = await Promise.all([binaryInfer(server.url), concurrentJson ? post("/v2/models/rec/infer", inferBody()) : undefined]);
      expect(response.status).toBe(200);
      const { header, binary } = await readBinaryResponse(response);
      expect(header.outputs[0]!.parameters?.binary_data_size).toBe(reference.byteLength);
      expect(Buffer.from(binary).equals(Buffer.from(reference.buffer, reference.byteOffset, reference.byteLength))).toBe(true);
      if (json) expect(sameFloats(Float32Array.from(((await json.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data), reference)).toBe(true);
    }
  });

  it("answers bad input with clear 4xx errors and stays up", async () => {
    const cases: [string, () => Promise<Response>, number, RegExp][] = [
      ["malformed JSON", () => post("/v2/models/rec/infer", "{not json"), 400, /not valid JSON/],
      ["wrong datatype", () => post("/v2/models/rec/infer", inferBody({ datatype: "INT32" })), 400, /is FP32, not INT32/],
      ["wrong shape", () => post("/v2/models/rec/infer", inferBody({ shape: [1, 3, 47, 320] })), 400, /declares/],
      ["too few elements", () => post("/v2/models/rec/infer", JSON.stringify({ inputs: [{ name: "x", shape: dims, datatype: "FP32", data: [1, 2, 3] }] })), 400, /needs 46080 elements/],
      ["non-numeric data", () => post("/v2/models/rec/infer", JSON.stringify({ inputs: [{ name: "x", shape: [1, 3, 48, 1], datatype: "FP32", data: Array(144).fill("a") }] })), 400, /not a number/],
      ["unknown input", () => post("/v2/models/rec/infer", inferBody({ name: "y" })), 400, /no input "y"/],
      ["unknown model", () => post("/v2/models/nope/infer", inferBody()), 404, /no ONNX model "nope"/],
      ["oversized body", () => post("/v2/models/rec/infer", new Uint8Array(maxBodyBytes + 1)), 413, /too large/i],
      ["admin route without token", () => post("/v2/repository/models/rec/unload", "{}"), 401, /bearer token/],
      ["admin route with a wrong token", () => post("/v2/repository/models/rec/unload", "{}", { authorization: "Bearer wrong-token-0123456789" }), 401, /bearer token/],
    ];
    for (const [what, pending, status, message] of cases) {
      const response = await pending();
      const body = (await response.json()) as { error: string };
      expect(response.status, what).toBe(status);
      expect(body.error, what).toMatch(message);
    }
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
    expect((await post("/v2/models/rec/infer", inferBody())).status).toBe(200);
  });

  it("refuses overload with 429 + Retry-After and answers a missed deadline with 504", async () => {
    // queueDepth 1: one running, one waiting, the rest refused at once.
    const responses = await Promise.all(Array.from({ length: 8 }, () => post("/v2/models/rec/infer", inferBody())));
    const statuses = responses.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(responses.find((r) => r.status === 429)!.headers.get("retry-after")).toBe("1");
    await Promise.all(responses.map((r) => r.arrayBuffer()));

    const late = await post("/v2/models/rec/infer", inferBody(), { "request-timeout-ms": "1" });
    expect(late.status).toBe(504);
    expect(((await late.json()) as { error: string }).error).toMatch(/deadline/);
  });

  it("unloads and loads through the repository extension (admin token)", async () => {
    const auth = { authorization: `Bearer ${testToken}` };
    expect((await post("/v2/repository/models/rec/unload", "{}", auth)).status).toBe(200);
    expect((await fetch(`${server.url}/v2/models/rec/ready`)).status).toBe(503);
    const refused = await post("/v2/models/rec/infer", inferBody());
    expect(refused.status).toBe(503);
    const index = (await (await post("/v2/repository/index", "{}", auth)).json()) as { name: string; state: string }[];
    expect(index).toEqual([expect.objectContaining({ name: "rec", state: "UNAVAILABLE" })]);
    expect((await post("/v2/repository/models/rec/load", "{}", auth)).status).toBe(200);
    expect((await post("/v2/models/rec/infer", inferBody())).status).toBe(200);
  });

  it("restarts a crashed worker, reports it, and keeps serving", async () => {
    const pid = server.repository.list()[0]!.worker.pid!;
    process.kill(pid, "SIGKILL");
    // Health answers while the model restarts.
    expect((await fetch(`${server.url}/v2/health/live`)).status).toBe(200);
    const worker = server.repository.list()[0]!.worker;
    await waitFor(async () => worker.pid !== pid && (await fetch(`${server.url}/v2/models/rec/ready`)).status === 200, 60_000, "the restarted worker");
    expect((await post("/v2/models/rec/infer", inferBody())).status).toBe(200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/edgeforge_worker_restarts_total\{model="rec",version="1"\} 1/);
  });
});

describe("edgeforge serve --isolation thread", () => {
  it("returns the same logits from a worker thread (JSON and binary, exactly)", async () => {
    const threaded = await startInferenceServer({ port: 0, threads: 1, isolation: "thread", models: [{ name: "rec", path: recModelPath }] });
    try {
      await threaded.loaded;
      const response = await fetch(`${threaded.url}/v2/models/rec/infer`, { method: "POST", body: inferBody() });
      expect(response.status).toBe(200);
      const served = Float32Array.from(((await response.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data);
      const binary = new Float32Array((await readBinaryResponse(await binaryInfer(threaded.url))).binary.slice().buffer);
      expect(sameFloats(served, reference)).toBe(true);
      expect(sameFloats(binary, reference)).toBe(true);
    } finally {
      await threaded.close();
    }
  });
});
