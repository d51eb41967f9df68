import { describe, expect, it } from "vitest";
import { openDataset } from "../../src/datasets/open-dataset.js";
import type { DriftMethod, DriftMethodChoice } from "../../src/monitor/detect-drift.js";
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
 * (features, reference, monitor); the HTTP path is tested in serve-drift.test.ts. The stream is
 * 2,200 digits not in the reference, shuffled; drift is evaluated every 25 requests once the
 * 500-request window is full (69 evaluations), then digits brightened by +0.3 follow.
 */
const temp = useTempDir("edgeforge-drift-mnist-");
const windowRequests = 500;
const everyRequests = 25;

const cases: Array<{ referencePerDigit: number; choice: DriftMethodChoice; methods: [DriftMethod, DriftMethod]; maxRequestsToFlag: number }> = [
  // measured: flagged after 40, 15 and 225 shifted requests
  { referencePerDigit: 100, choice: "auto", methods: ["ks", "chi-square"], maxRequestsToFlag: 100 },
  { referencePerDigit: 150, choice: "auto", methods: ["wasserstein", "jensen-shannon"], maxRequestsToFlag: 100 },
  { referencePerDigit: 100, choice: "psi", methods: ["psi", "psi"], maxRequestsToFlag: 300 },
];

describe("drift on mnist-8 (window 500)", () => {
  it.each(cases)("reference $referencePerDigit digits per class, $choice ($methods): no false flag in 2,200 requests; brightness +0.3 flagged", async ({ referencePerDigit, choice, methods, maxRequestsToFlag }) => {
    const { train: referenceDigits, test: streamDigits } = loadMnistSplit(referencePerDigit, 220);
    await using session = await openRuntimeSession("ort", sharedModels.mnist8Onnx, "onnx");
    const { inputs, outputs } = session.describe();
    const features = planFeatures(inputs, outputs);
    const dataset = await openDataset(await writeMnistJsonl(temp.join(`reference-${referencePerDigit}.jsonl`), referenceDigits));
    const reference = await buildDriftReference(session, dataset, 5000);
    expect(reference.rows).toBe(referencePerDigit * 10);

    const monitor = new ModelMonitor({ windowRequests, method: choice });
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
      expect(report.features.map((f) => f.method)).toEqual(features.map((f) => (f.kind === "numeric" ? methods[0] : methods[1])));
      evaluations += 1;
      if (report.drifted) flagged += 1;
      for (const f of report.features) if (f.drifted) featureFlags.set(f.feature, (featureFlags.get(f.feature) ?? 0) + 1);
    }
    expect(stream.length).toBe(2200);
    expect(evaluations).toBe(69);
    // the model-level false-positive rate: 0 of 69 overlapping windows (single features: docs/monitor.md)
    expect(flagged).toBe(0);
    for (const count of featureFlags.values()) expect(count / evaluations).toBeLessThan(0.2);

    const shifted = shuffled(streamDigits, createRandom(7));
    let flaggedAfter: number | undefined;
    for (let i = 0; i < windowRequests && flaggedAfter === undefined; i += 1) {
      monitor.record({ latencyMs: 1, status: 200, features: await featuresOf(brighten(shifted[i]!.pixels, 0.3)) });
      if ((i + 1) % 5 === 0 && monitor.evaluateDrift()!.drifted) flaggedAfter = i + 1;
    }
    expect(flaggedAfter).toBeDefined();
    expect(flaggedAfter!).toBeLessThanOrEqual(maxRequestsToFlag);
  }, 120_000);
});
