import { describe, expect, it } from "vitest";
import { Registry } from "../../src/registry/registry.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";
import { writeMnistBatchVariants } from "../fixtures/mnist-batch-variants.js";

const tmp = useTempDir("registry-rollouts-");
const plan = { strategy: "canary", steps: [5, 100], intervalMs: 1000, analysis: { successRateMin: 0.99, minRequests: 20, failureLimit: 0 } };

describe("rollout state in the registry", () => {
  it("keeps one running rollout per model, audits every transition, and moves aliases on promotion and rollback", async () => {
    const variants = await writeMnistBatchVariants(tmp.path);
    using registry = Registry.open(tmp.join("registry.db"));
    await registry.addVersion({ model: "digits", path: sharedModels.mnist8Onnx, version: "1", command: "test" });
    await registry.addVersion({ model: "digits", path: variants.good, version: "2", command: "test" });
    registry.setAlias({ model: "digits", alias: "production", version: "1", reason: "release", command: "test" });
    const base = { model: "digits", stableVersion: "1", candidateVersion: "2", stableAlias: "production", candidateAlias: "candidate", plan, command: "test", actor: "tester" };

    expect(() => registry.rollouts.start({ ...base, candidateVersion: "1" })).toThrow(/already the stable version/);
    expect(() => registry.rollouts.start({ ...base, candidateVersion: "9" })).toThrow(expect.objectContaining({ code: "REGISTRY_NOT_FOUND" }));
    const first = registry.rollouts.start(base);
    expect(first).toMatchObject({ state: "progressing", stepIndex: 0, stableVersion: "1", candidateVersion: "2" });
    expect(registry.resolve("digits@candidate").version).toBe("2");
    expect(() => registry.rollouts.start(base)).toThrow(expect.objectContaining({ code: "REGISTRY_CONFLICT" }));

    registry.rollouts.update(first.id, { state: "paused", reason: "too little traffic" }, { kind: "paused" });
    expect(registry.rollouts.active("digits")).toMatchObject({ state: "paused", reason: "too little traffic" });
    registry.rollouts.update(first.id, { stepIndex: 1, state: "progressing" }, { kind: "step", details: { weightPercent: 100 } });
    const rolledBack = registry.rollouts.finish(first.id, "rolled-back", { reason: "success rate 50 %", command: "test", details: { measured: { candidateSuccessRate: 0.5 } } });
    expect(rolledBack.state).toBe("rolled-back");
    expect(registry.rollouts.active("digits")).toBeUndefined();
    expect(registry.resolve("digits@candidate").version).toBe("1");
    expect(registry.resolve("digits@production").version).toBe("1");
    expect(registry.aliasHistory("digits", "candidate").at(-1)?.details).toMatchObject({ outcome: "rolled-back", measured: { candidateSuccessRate: 0.5 } });
    expect(() => registry.rollouts.finish(first.id, "promoted", { reason: "late", command: "test" })).toThrow(/already ended/);

    const second = registry.rollouts.start(base);
    registry.rollouts.finish(second.id, "promoted", { reason: "all steps passed", command: "test" });
    expect(registry.resolve("digits@production").version).toBe("2");
    expect(registry.rollouts.latest("digits")?.id).toBe(second.id);
    // newest first, every transition of both rollouts
    const kinds = registry.events.list("digits").map((e) => e.kind);
    expect(kinds).toEqual(["promoted", "rollout-started", "rolled-back", "step", "paused", "rollout-started"]);

    const mark = registry.events.mark({ model: "digits", version: "2", mark: "needs-recalibration", reason: "drift alert", details: { driftScore: 0.4 } });
    expect(registry.events.marks("digits")).toEqual([mark]);
    expect(registry.events.unmark({ model: "digits", version: "2", mark: "needs-recalibration", reason: "recalibrated" })).toBe(true);
    expect(registry.events.marks("digits")).toEqual([]);
    expect(registry.events.list("digits", { limit: 2 }).map((e) => e.kind)).toEqual(["version-unmarked", "version-marked"]);
  });
});
