import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { quantize } from "../../src/api/quantize.js";
import { Registry } from "../../src/registry/registry.js";
import type { RolloutStatus } from "../../src/rollout/rollout-status.js";
import { startInferenceServer, type InferenceServer } from "../../src/server/start-server.js";
import { writeMnistBatchVariants } from "../fixtures/mnist-batch-variants.js";
import { useTempDir } from "../fixtures/temp-dir.js";
import { adminRequest, seededFloats, testToken, waitFor } from "../fixtures/serve-test-helpers.js";

/**
 * Canary rollouts on a real server with real models on loopback. The load mixes batch-1 and batch-2
 * requests with stable ids; the broken candidate fails every batch-2 request in onnxruntime, so its
 * success rate is ~50 % whatever the machine's speed. No assertion depends on wall-clock latency.
 */
const tmp = useTempDir("rollout-canary-");
const pixels = seededFloats(2 * 784);
let server: InferenceServer;
let registryPath: string;
let variants: Awaited<ReturnType<typeof writeMnistBatchVariants>>;

interface LoadResult {
  statuses: Map<number, number>;
  versions: string[];
  errors: string[];
}

/** Closed-loop load: `connections` clients sending requests until `stop()`; every answer is counted. */
function runLoad(connections = 3): { stop(): Promise<LoadResult>; sent(): number } {
  const result: LoadResult = { statuses: new Map(), versions: [], errors: [] };
  let running = true;
  let next = 0;
  const client = async (): Promise<void> => {
    while (running) {
      const i = next++;
      const batch = i % 2 === 0 ? 1 : 2;
      const body = JSON.stringify({ id: `req-${i}`, inputs: [{ name: "Input3", shape: [batch, 1, 28, 28], datatype: "FP32", data: Array.from(pixels.subarray(0, batch * 784)) }] });
      try {
        const response = await fetch(`${server.url}/v2/models/digits/infer`, { method: "POST", headers: { "content-type": "application/json" }, body });
        result.statuses.set(response.status, (result.statuses.get(response.status) ?? 0) + 1);
        const json = (await response.json()) as { model_version?: string };
        if (response.status === 200 && json.model_version) result.versions.push(json.model_version);
      } catch (error) {
        result.errors.push(String(error));
      }
    }
  };
  const clients = Array.from({ length: connections }, () => client());
  return {
    sent: () => next,
    async stop() {
      running = false;
      await Promise.all(clients);
      return result;
    },
  };
}

const admin = <T>(path: string, body?: unknown) => adminRequest<T>(server.url, path, body);

const rolloutStatus = async (): Promise<RolloutStatus> => (await admin<RolloutStatus>("/v2/models/digits/rollout")).json;

async function requestCounts(version: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const { labels, value } of (await server.metrics.requests.get()).values) if (labels.version === version) counts.set(String(labels.status), (counts.get(String(labels.status)) ?? 0) + value);
  return counts;
}

const plan = (steps: number[], intervalMs: number, minRequests: number) => ({ strategy: "canary", steps, intervalMs, analysis: { successRateMin: 0.95, minRequests, failureLimit: 0 } });

beforeAll(async () => {
  variants = await writeMnistBatchVariants(tmp.path);
  registryPath = tmp.join("registry.db");
  using registry = Registry.open(registryPath);
  await registry.addVersion({ model: "digits", path: variants.stable, version: "1", command: "test" });
  await registry.addVersion({ model: "digits", path: variants.good, version: "2", command: "test" });
  await registry.addVersion({ model: "digits", path: variants.broken, version: "3", command: "test" });
  registry.setAlias({ model: "digits", alias: "production", version: "1", reason: "first release", command: "test" });
  const stable = registry.resolve("digits@production");
  server = await startInferenceServer(
    { port: 0, isolation: "thread", registry: registryPath, models: [{ name: "digits", version: stable.version, path: stable.artifact.path, source: "digits@production" }] },
    { env: { EDGEFORGE_SERVE_TOKENS: testToken } },
  );
  await server.loaded;
}, 60_000);

afterAll(async () => {
  await server?.close(2000);
});

describe("canary rollout on edgeforge serve", () => {
  it("holds on too little traffic, then promotes a good candidate through every step with zero failed requests", async () => {
    const started = await admin<RolloutStatus>("/v2/models/digits/rollout", { candidate: "2", plan: plan([10, 50, 100], 1000, 5) });
    expect(started.status).toBe(200);
    expect(started.json.candidate).toEqual({ version: "2", weight: 0.1 });
    // No load yet: the first analysis has no data and must hold the step, neither promoting nor rolling back.
    await waitFor(async () => (await rolloutStatus()).analysis.length > 0, 20_000, "the first analysis");
    const idle = await rolloutStatus();
    expect(idle.analysis[0]?.verdict).toBe("inconclusive");
    expect(idle.state).toBe("paused");
    expect(idle.reason).toMatch(/too little traffic/);
    expect(idle.stepIndex).toBe(0);
    // Still paused at the next analysis: the status's reason is that analysis's, not the first pause's.
    const body = JSON.stringify({ inputs: [{ name: "Input3", shape: [1, 1, 28, 28], datatype: "FP32", data: Array.from(pixels.subarray(0, 784)) }] });
    for (let i = 0; i < 2; i++) expect((await fetch(`${server.url}/v2/models/digits/versions/2/infer`, { method: "POST", headers: { "content-type": "application/json" }, body })).status).toBe(200);
    await waitFor(async () => (await rolloutStatus()).analysis[0]?.reasons[0]?.startsWith("too little traffic: 2 candidate request(s)") ?? false, 20_000, "an analysis of the 2 requests");
    const held = await rolloutStatus();
    expect(held.state).toBe("paused");
    expect(held.reason).toBe(held.analysis[0]?.reasons[0]);

    const load = runLoad();
    await waitFor(async () => (await rolloutStatus()).state === "promoted", 60_000, "promotion");
    await new Promise((r) => setTimeout(r, 300));
    const result = await load.stop();
    const final = await rolloutStatus();
    // every step passed its analysis, in order, then the promotion
    const passedSteps = final.analysis.filter((a) => a.verdict === "pass").map((a) => a.step).sort();
    expect(passedSteps).toEqual([0, 1, 2]);
    expect(final.decisions.map((d) => d.kind)).toEqual(expect.arrayContaining(["rollout-started", "paused", "step", "promoted"]));
    expect(final.stable).toEqual({ version: "2", weight: 1 });
    expect(final.candidate).toBeNull();
    // zero requests failed: not at any step switch, not at promotion
    expect(result.errors).toEqual([]);
    expect([...result.statuses.keys()]).toEqual([200]);
    expect(result.versions.slice(-20).every((v) => v === "2")).toBe(true);
    expect(new Set(result.versions)).toEqual(new Set(["1", "2"]));
    // the old stable is retired once its requests finished
    expect(server.repository.list().map((m) => m.spec.version)).toEqual(["2"]);
    using registry = Registry.open(registryPath);
    expect(registry.resolve("digits@production").version).toBe("2");
    const promotion = registry.aliasHistory("digits", "production").at(-1);
    expect(promotion?.details).toMatchObject({ outcome: "promoted", candidateVersion: "2" });
  }, 120_000);

  it("rolls a candidate that fails on part of the inputs back within two analysis intervals while load runs", async () => {
    const load = runLoad();
    await waitFor(async () => load.sent() > 20, 20_000, "load to start");
    const started = await admin<RolloutStatus>("/v2/models/digits/rollout", { candidate: "3", plan: plan([20, 50, 100], 1500, 10) });
    expect(started.status).toBe(200);
    await waitFor(async () => (await rolloutStatus()).state === "rolled-back", 60_000, "the rollback");
    const sentAtRollback = load.sent();
    await waitFor(async () => load.sent() > sentAtRollback + 30, 20_000, "load after the rollback");
    const result = await load.stop();
    const final = await rolloutStatus();
    const conclusive = final.analysis.filter((a) => a.verdict !== "inconclusive");
    expect(final.analysis.length).toBeLessThanOrEqual(2);
    expect(conclusive).toHaveLength(1);
    expect(conclusive[0]?.verdict).toBe("fail");
    expect(conclusive[0]?.measured.candidateSuccessRate).toBeLessThan(0.95);
    expect(final.stepIndex).toBe(0);
    expect(final.stable).toEqual({ version: "2", weight: 1 });
    expect(final.candidate).toBeNull();
    expect(final.reason).toMatch(/success rate/);
    // every failed request was the candidate's own failure (batch 2 on the broken model), none came from the switch
    const stableCounts = await requestCounts("2");
    expect([...stableCounts.keys()]).toEqual(["200"]);
    const candidateCounts = await requestCounts("3");
    expect(result.errors).toEqual([]);
    expect(result.statuses.get(500) ?? 0).toBe(candidateCounts.get("500") ?? 0);
    expect([...result.statuses.keys()].filter((s) => s !== 200 && s !== 500)).toEqual([]);
    // after the rollback only the stable version answers
    expect(result.versions.slice(-20).every((v) => v === "2")).toBe(true);
    using registry = Registry.open(registryPath);
    expect(registry.resolve("digits@candidate").version).toBe("2");
    const rollback = registry.aliasHistory("digits", "candidate").at(-1);
    expect(rollback?.reason).toMatch(/rolled-back/);
    expect(rollback?.details).toMatchObject({ outcome: "rolled-back", candidateVersion: "3", measured: { candidateRequests: expect.any(Number) } });
  }, 120_000);

  it("acts on Alertmanager v4 notifications: latency → lighter certified variant, error rate → rollback, drift → recalibration mark", async () => {
    // the stable version is whatever the earlier tests left (2 after the promotion; 1 when run alone)
    const stable = (await rolloutStatus()).stable.version;
    const alert = (alertname: string, labels: Record<string, string> = {}, status = "firing") => ({
      version: "4",
      status,
      receiver: "edgeforge",
      groupKey: `{}:{alertname="${alertname}"}`,
      alerts: [{ status, labels: { alertname, model: "digits", version: stable, severity: "critical", ...labels }, annotations: { summary: `${alertname} on digits`, value: "0.31" }, startsAt: "2026-12-02T13:00:00Z", fingerprint: "abc123" }],
    });
    type Results = { results: Array<{ action: string; detail: string }> };
    const post = (body: unknown) => admin<Results>("/v2/alerts/alertmanager", body);

    // no other certified version yet: the latency alert is recorded, nothing switches
    const none = await post(alert("EdgeforgeLatencyP95High"));
    expect(none.status).toBe(200);
    expect(none.json.results[0]).toMatchObject({ action: "none", detail: expect.stringMatching(/no lighter variant/) });

    // a real lighter variant: the stable model quantized to int8 by edgeforge, registered and certified
    const lighter = await quantize(variants.stable, { method: "int8-dynamic", output: tmp.join("mnist-int8.onnx") });
    {
      using registry = Registry.open(registryPath);
      const added = await registry.addVersion({ model: "digits", path: lighter.output.path, version: "4", command: "test" });
      registry.recordCertification({ artifactDigest: added.artifactDigest, approved: true, certificate: { approved: true, note: "test approval record" } });
      expect(added.artifact.sizeBytes).toBeLessThan(registry.resolve(`digits@${stable}`).artifact.sizeBytes);
    }
    const switched = await post(alert("EdgeforgeLatencyP99High"));
    expect(switched.json.results[0]).toMatchObject({ action: "switched-to-lighter-variant", detail: expect.stringContaining(`${stable} → 4 at 100 %`) });
    const during = await rolloutStatus();
    expect(during).toMatchObject({ state: "progressing", stable: { version: stable, weight: 0 }, candidate: { version: "4", weight: 1 } });
    const load = runLoad(2);
    await waitFor(async () => load.sent() > 20, 20_000, "requests to the lighter variant");
    const duringLoad = await load.stop();
    expect([...duringLoad.statuses.keys()]).toEqual([200]);
    expect(duringLoad.versions.slice(-10).every((v) => v === "4")).toBe(true);

    // an error-rate alert during the rollout rolls it back at once
    const rolledBack = await post(alert("EdgeforgeErrorRateHigh", { version: "4" }));
    expect(rolledBack.json.results[0]?.action).toBe("rolled-back");
    expect(await rolloutStatus()).toMatchObject({ state: "rolled-back", stable: { version: stable, weight: 1 }, candidate: null });
    expect((await post(alert("EdgeforgeErrorRateHigh"))).json.results[0]).toMatchObject({ action: "none", detail: expect.stringMatching(/no rollout in progress/) });

    // drift: marked for recalibration, still serving
    const drift = await post(alert("EdgeforgeDriftDetected"));
    expect(drift.json.results[0]?.action).toBe("marked-for-recalibration");
    const after = runLoad(1);
    await waitFor(async () => after.sent() > 5, 20_000, "requests after the drift alert");
    expect([...(await after.stop()).statuses.keys()]).toEqual([200]);
    using registry = Registry.open(registryPath);
    expect(registry.events.marks("digits")).toEqual([expect.objectContaining({ version: stable, mark: "needs-recalibration", details: expect.objectContaining({ alertname: "EdgeforgeDriftDetected", annotations: expect.objectContaining({ value: "0.31" }) }) })]);
    const events = (await admin<Array<{ kind: string; details: { action?: string } }>>("/v2/models/digits/events")).json;
    expect(events.filter((e) => e.kind === "alert-received").map((e) => e.details.action)).toEqual(["marked-for-recalibration", "none", "rolled-back", "switched-to-lighter-variant", "none"]);

    // resolved alerts are recorded only; bad payloads and missing tokens are refused
    expect((await post(alert("EdgeforgeDriftDetected", {}, "resolved"))).json.results[0]?.action).toBe("none");
    expect((await post({ ...alert("EdgeforgeDriftDetected"), version: "3" })).status).toBe(400);
    const anonymous = await fetch(`${server.url}/v2/alerts/alertmanager`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(alert("EdgeforgeDriftDetected")) });
    expect(anonymous.status).toBe(401);
  }, 120_000);
});
