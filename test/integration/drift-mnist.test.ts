import { describe, expect, it } from "vitest";
import { openDataset } from "../../src/datasets/open-dataset.js";
import { buildDriftReference } from "../../src/monitor/build-drift-reference.js";
import { ModelMonitor } from "../../src/monitor/model-monitor.js";
import { extractFeatures, planFeatures } from "../../src/monitor/request-features.js";
import { openRuntimeSession } from "../../src/runtimes/catalog.js";
import { createRandom, shuffled } from "../../src/stats/random.js";
import { loadMnistSplit } from "../fixtures/mnist-classifier.js";
import { brighten, mnistInput, writeMnistJsonl } from "../fixtures/mnist-drift-inputs.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";

/**
 * Drift on real mnist-8 predictions, computed on windows directly with the server's own functions
 * (features, reference, monitor); the HTTP path is tested in serve-drift.test.ts.
 * Reference: 1,000 digits (100 per class, KS / chi-square); stream: 2,200 other digits, shuffled.
 */
const temp = useTempDir("edgeforge-drift-mnist-");
const windowRequests = 500;
const everyRequests = 25;

describe("drift on mnist-8 (reference 1,000 digits, window 500)", () => {
  it("an unshifted stream of 2,200 requests never flags drift; brightness +0.3 flags it within 100 requests", async () => {
    const { train: referenceDigits, test: streamDigits } = loadMnistSplit(100, 220);
    await using session = await openRuntimeSession("ort", sharedModels.mnist8Onnx, "onnx");
    const { inputs, outputs } = session.describe();
    const features = planFeatures(inputs, outputs);
    const reference = await buildDriftReference(session, await openDataset(await writeMnistJsonl(temp.join("reference.jsonl"), referenceDigits)), 5000);
    expect(reference.rows).toBe(1000);

    const monitor = new ModelMonitor({ windowRequests, method: "auto" });
    monitor.configure(features, reference);
    const featuresOf = async (pixels: Float32Array): Promise<Float64Array> => {
      const request = mnistInput(pixels);
      return extractFeatures(inputs, outputs, request, await session.run(request), new Float64Array(features.length));
    };

    const stream = shuffled(streamDigits, createRandom(42));
    let evaluations = 0;
    let flagged = 0;
    const featureFlags = new Map<string, number>();
    for (const [i, digit] of stream.entries()) {
      monitor.record({ latencyMs: 1, status: 200, features: await featuresOf(digit.pixels) });
      if ((i + 1) % everyRequests !== 0 || i + 1 < windowRequests) continue;
      const report = monitor.evaluateDrift()!;
      expect(report.features.map((f) => f.method)).toEqual([...features.map((f) => (f.kind === "numeric" ? "ks" : "chi-square"))]);
      evaluations += 1;
      if (report.drifted) flagged += 1;
      for (const f of report.features) if (f.drifted) featureFlags.set(f.feature, (featureFlags.get(f.feature) ?? 0) + 1);
    }
    expect(stream.length).toBe(2200);
    expect(evaluations).toBe(69);
    // false-positive rate of the model-level flag: 0 of 69 overlapping windows (single features: see docs/monitor.md)
    expect(flagged).toBe(0);
    for (const count of featureFlags.values()) expect(count / evaluations).toBeLessThan(0.2);

    const shifted = shuffled(streamDigits, createRandom(7));
    let flaggedAfter: number | undefined;
    for (let i = 0; i < windowRequests && flaggedAfter === undefined; i += 1) {
      monitor.record({ latencyMs: 1, status: 200, features: await featuresOf(brighten(shifted[i]!.pixels, 0.3)) });
      if ((i + 1) % 5 === 0 && monitor.evaluateDrift()!.drifted) flaggedAfter = i + 1;
    }
    // measured: 40 shifted requests (8 % of the window) turn the flag on
    expect(flaggedAfter).toBeDefined();
    expect(flaggedAfter!).toBeLessThanOrEqual(100);
  }, 120_000);
});
