import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ModelMonitoringResponse } from "../../src/monitor/model-monitor.js";
import { startInferenceServer, type InferenceServer } from "../../src/server/start-server.js";
import { createRandom, shuffled } from "../../src/stats/random.js";
import { loadMnistSplit } from "../fixtures/mnist-classifier.js";
import { brighten, writeMnistJsonl } from "../fixtures/mnist-drift-inputs.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";
import { evaluatedMonitoring, readMonitoring } from "../fixtures/serve-test-helpers.js";

/** The real server on loopback: mnist-8 with a --reference dataset, drift over HTTP, the monitoring endpoint and the gauges. */
const temp = useTempDir("edgeforge-serve-drift-");
const windowRequests = 200;
let server: InferenceServer;
const { train: referenceDigits, test: streamDigits } = loadMnistSplit(50, 40);

const infer = async (pixels: Float32Array): Promise<number> => {
  const body = JSON.stringify({ inputs: [{ name: "Input3", datatype: "FP32", shape: [1, 1, 28, 28], data: Array.from(pixels) }] });
  const response = await fetch(`${server.url}/v2/models/mnist/infer`, { method: "POST", headers: { "content-type": "application/json" }, body });
  await response.arrayBuffer();
  return response.status;
};
const monitoring = (path?: string): Promise<ModelMonitoringResponse> => readMonitoring(server.url, "mnist", path);
/** The drift evaluation that covers every request sent so far (the timer runs every 100 ms). */
const evaluated = () => evaluatedMonitoring(server.url, "mnist");

beforeAll(async () => {
  const reference = await writeMnistJsonl(temp.join("reference.jsonl"), referenceDigits);
  server = await startInferenceServer({ port: 0, models: [{ name: "mnist", path: sharedModels.mnist8Onnx, reference }], monitoring: { windowRequests, intervalMs: 100 } });
  await server.loaded;
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe("serve --reference: drift over HTTP on mnist-8 (reference 500 digits, window 200)", () => {
  it("reports the window, latency, errors, throughput and no drift for digits like the reference", async () => {
    const before = await monitoring();
    expect(before.versions[0]).toMatchObject({ version: "1", ready: true, window: { requests: 0 }, latencyMs: null, drift: { status: "too-few-rows", reference: { rows: 500 } } });
    expect(before.versions[0]!.features.map((f) => f.name)).toEqual(["Input3.mean", "Input3.sd", "Input3.p10", "Input3.p50", "Input3.p90", "prediction.confidence", "prediction.class"]);

    for (const digit of shuffled(streamDigits, createRandom(3)).slice(0, windowRequests)) expect(await infer(digit.pixels)).toBe(200);
    const version = await evaluated();
    expect(version.window.requests).toBe(windowRequests);
    expect(version.errorRate).toBe(0);
    expect(version.throughputRps).toBeGreaterThan(0);
    expect(version.latencyMs!.p50).toBeGreaterThan(0);
    expect(version.latencyMs!.p99).toBeGreaterThanOrEqual(version.latencyMs!.p95);
    expect(version.predictions.rows).toBe(windowRequests);
    expect(version.predictions.classShares.length).toBe(10);
    expect(version.drift).toMatchObject({ status: "evaluated", referenceRows: 500, windowRows: windowRequests, drifted: false, thresholds: { pValue: 0.05, driftedShare: 0.5 } });
    expect(version.drift.features.map((f) => f.method)).toEqual(["ks", "ks", "ks", "ks", "ks", "ks", "chi-square"]);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^edgeforge_drifted\{model="mnist",version="1"\} 0$/m);
    expect(metrics).toMatch(/^edgeforge_drift_score\{model="mnist",version="1",feature="Input3\.mean"\} [0-9.e-]+$/m);
  }, 60_000);

  it("brightness-shifted digits raise the flag within 100 requests, in the JSON and the gauge", async () => {
    const shifted = shuffled(streamDigits, createRandom(4));
    let sent = 0;
    let version: ModelMonitoringResponse["versions"][number] | undefined;
    while (sent < 100) {
      for (let i = 0; i < 10; i += 1) expect(await infer(brighten(shifted[sent++]!.pixels, 0.3))).toBe(200);
      version = await evaluated();
      if (version.drift.drifted) break;
    }
    expect(version!.drift.drifted).toBe(true);
    expect(sent).toBeLessThanOrEqual(100);
    expect(version!.drift.driftedShare).toBeGreaterThanOrEqual(0.5);
    expect(version!.drift.features.find((f) => f.feature === "Input3.mean")!.drifted).toBe(true);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^edgeforge_drifted\{model="mnist",version="1"\} 1$/m);
    const one = await monitoring("/v2/models/mnist/versions/1/monitoring");
    expect(one.versions.map((v) => v.version)).toEqual(["1"]);
    expect((await fetch(`${server.url}/v2/models/mnist/versions/9/monitoring`)).status).toBe(404);
  }, 60_000);
});
