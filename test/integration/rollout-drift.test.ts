import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Registry } from "../../src/registry/registry.js";
import type { RolloutStatus } from "../../src/rollout/rollout-status.js";
import { startInferenceServer, type InferenceServer } from "../../src/server/start-server.js";
import { createRandom, shuffled } from "../../src/stats/random.js";
import { writeMnistBatchVariants } from "../fixtures/mnist-batch-variants.js";
import { loadMnistSplit } from "../fixtures/mnist-classifier.js";
import { brighten, writeMnistJsonl } from "../fixtures/mnist-drift-inputs.js";
import { useTempDir } from "../fixtures/temp-dir.js";
import { adminRequest, testToken, waitFor } from "../fixtures/serve-test-helpers.js";

/**
 * The rollout analysis's drift criterion on a real server: the stable version is served with a
 * `--reference` dataset (real mnist digits), the candidate is monitored against it, and the analysis
 * reads the candidate's drifted share from the drift monitor. Both versions answer every request; only
 * the inputs differ between the two tests, so the verdict comes from drift alone.
 */
const tmp = useTempDir("rollout-drift-");
const { train: referenceDigits, test: streamDigits } = loadMnistSplit(50, 40);
let server: InferenceServer;
let registryPath: string;

const admin = <T>(path: string, body?: unknown) => adminRequest<T>(server.url, path, body);

const rolloutStatus = async (): Promise<RolloutStatus> => (await admin<RolloutStatus>("/v2/models/digits/rollout")).json;

/** Requests with distinct ids (so the split sends about half to the candidate) until the rollout leaves "running". */
async function sendUntilDecided(pixelsOf: (index: number) => Float32Array): Promise<{ statuses: Set<number>; versions: Set<string> }> {
  const statuses = new Set<number>();
  const versions = new Set<string>();
  let i = 0;
  await waitFor(
    async () => {
      for (let n = 0; n < 20; n++, i++) {
        const body = JSON.stringify({ id: `req-${i}`, inputs: [{ name: "Input3", shape: [1, 1, 28, 28], datatype: "FP32", data: Array.from(pixelsOf(i)) }] });
        const response = await fetch(`${server.url}/v2/models/digits/infer`, { method: "POST", headers: { "content-type": "application/json" }, body });
        statuses.add(response.status);
        const json = (await response.json()) as { model_version?: string };
        if (json.model_version) versions.add(json.model_version);
      }
      const { state } = await rolloutStatus();
      return state === "promoted" || state === "rolled-back";
    },
    90_000,
    "the rollout's decision",
  );
  return { statuses, versions };
}

// One analysis per step after ≥ 30 candidate requests (the drift monitor judges from 30 rows on).
const plan = { strategy: "canary", steps: [50, 100], intervalMs: 1500, analysis: { successRateMin: 0.95, minRequests: 30, failureLimit: 0, driftMaxShare: 0.5 } };

beforeAll(async () => {
  const variants = await writeMnistBatchVariants(tmp.path);
  const reference = await writeMnistJsonl(tmp.join("reference.jsonl"), referenceDigits);
  registryPath = tmp.join("registry.db");
  using registry = Registry.open(registryPath);
  await registry.addVersion({ model: "digits", path: variants.stable, version: "1", command: "test" });
  await registry.addVersion({ model: "digits", path: variants.good, version: "2", command: "test" });
  registry.setAlias({ model: "digits", alias: "production", version: "1", reason: "first release", command: "test" });
  const stable = registry.resolve("digits@production");
  server = await startInferenceServer(
    {
      port: 0,
      isolation: "thread",
      registry: registryPath,
      models: [{ name: "digits", version: stable.version, path: stable.artifact.path, source: "digits@production", reference }],
      monitoring: { windowRequests: 200, intervalMs: 100 },
    },
    { env: { EDGEFORGE_SERVE_TOKENS: testToken } },
  );
  await server.loaded;
}, 60_000);

afterAll(async () => {
  await server?.close(2000);
});

describe("rollout analysis: the candidate's input drift against the stable version's --reference", () => {
  it("rolls the candidate back when its inputs drift (brightness-shifted digits), every request answered", async () => {
    const started = await admin<RolloutStatus>("/v2/models/digits/rollout", { candidate: "2", plan });
    expect(started.status).toBe(200);
    const digits = shuffled(streamDigits, createRandom(5));
    const traffic = await sendUntilDecided((i) => brighten(digits[i % digits.length]!.pixels, 0.3));
    const final = await rolloutStatus();
    expect(final.state).toBe("rolled-back");
    const failed = final.analysis.find((a) => a.verdict === "fail")!;
    expect(failed.measured.candidateSuccessRate).toBe(1);
    expect(failed.measured.candidateDriftedShare).toBeGreaterThanOrEqual(0.5);
    expect(failed.reasons).toEqual(expect.arrayContaining([expect.stringMatching(/^drifted features [\d.]+ % ≥ 50(\.0+)? %$/)]));
    expect(final.reason).toMatch(/drifted features/);
    expect(final.stable).toEqual({ version: "1", weight: 1 });
    expect([...traffic.statuses]).toEqual([200]);
    expect(traffic.versions).toEqual(new Set(["1", "2"]));
  }, 120_000);

  it("promotes the same candidate when its inputs are digits like the reference, the drift criterion judged and passed", async () => {
    const started = await admin<RolloutStatus>("/v2/models/digits/rollout", { candidate: "2", plan });
    expect(started.status).toBe(200);
    const digits = shuffled(streamDigits, createRandom(6));
    const traffic = await sendUntilDecided((i) => digits[i % digits.length]!.pixels);
    const final = await rolloutStatus();
    expect(final.state).toBe("promoted");
    const passed = final.analysis.filter((a) => a.verdict === "pass");
    expect(passed.map((a) => a.step).sort()).toEqual([0, 1]);
    for (const analysis of passed) {
      expect(analysis.measured.candidateDriftedShare).toBeLessThan(0.5);
      expect(analysis.reasons).toEqual(expect.arrayContaining([expect.stringMatching(/^drifted features [\d.]+ % < 50(\.0+)? %$/)]));
    }
    expect([...traffic.statuses]).toEqual([200]);
    expect(final.stable).toEqual({ version: "2", weight: 1 });
  }, 120_000);
});
