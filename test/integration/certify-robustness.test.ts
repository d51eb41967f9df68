import { describe, expect, it } from "vitest";
import { openOrtSession } from "../../src/runtimes/ort/ort-runtime.js";
import { checkRobustness } from "../../src/workflow/certify/check-robustness.js";
import { buildProbeSet } from "../../src/workflow/certify/session-probes.js";
import { realOnnxModels } from "../fixtures/onnx-test-models.js";

describe("certify robustness on a model that is not about images (Silero VAD: audio frames, one probability out)", () => {
  it("names the shift and scaling offset and gain, and measures real degradation across the probes", async () => {
    const session = await openOrtSession(realOnnxModels.vad);
    try {
      const probes = await buildProbeSet(session, { shapes: { input: [1, 512], batch: [1] }, samples: 4, seed: 7 });
      const robustness = await checkRobustness(session, probes, 0.25);
      expect(robustness.perturbations.map((p) => p.name)).toEqual(["gaussian-noise", "offset", "gain"]);
      // One probability per probe: compared across the probes, so a perturbation that moves them shows (per probe it read 0).
      expect(robustness.perturbations.some((p) => p.degradation > 0)).toBe(true);
      expect(robustness.badInputs.every((b) => b.passed)).toBe(true);
    } finally {
      await session.close();
    }
  });
});
