import { writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { EdgeforgeError } from "../core/errors.js";
import { buildRolloutPlan, parseIntervalMs, parseRolloutPlan, parseStepsText, readRolloutAnalysisFile } from "./rollout-plan.js";
import { useTempDir } from "../../test/fixtures/temp-dir.js";

function failure(fn: () => unknown): EdgeforgeError {
  try {
    fn();
  } catch (error) {
    if (EdgeforgeError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a typed error");
}

describe("rollout plans", () => {
  const temp = useTempDir("rollout-plan-");

  it("takes flags over the analysis file over the defaults", async () => {
    const path = temp.join("analysis.yaml");
    await writeFile(path, "schemaVersion: 1\nsteps: [10, 100]\ninterval: 2s\nminRequests: 50\nfailureLimit: 1\nsuccessRate: { min: 0.999 }\nlatencyP99: { maxMs: 250 }\n");
    const file = await readRolloutAnalysisFile(path);
    expect(buildRolloutPlan({ file })).toEqual({ strategy: "canary", steps: [10, 100], intervalMs: 2000, analysis: { successRateMin: 0.999, p99LatencyMaxMs: 250, driftMaxShare: 0.5, minRequests: 50, failureLimit: 1 } });
    expect(buildRolloutPlan({ file, steps: [5, 25, 50, 100], interval: "1.5s" })).toMatchObject({ steps: [5, 25, 50, 100], intervalMs: 1500 });
    expect(buildRolloutPlan({})).toEqual({ strategy: "canary", steps: [5, 25, 50, 100], intervalMs: 30_000, analysis: { successRateMin: 0.99, p99LatencyMaxRatio: 2, driftMaxShare: 0.5, minRequests: 20, failureLimit: 0 } });
    expect(buildRolloutPlan({ file: { drift: { maxShare: null } } }).analysis.driftMaxShare).toBeUndefined();
    expect(buildRolloutPlan({ blueGreen: true })).toMatchObject({ strategy: "blue-green", steps: [0] });
  });

  it("refuses bad steps, durations and files with typed errors and hints", async () => {
    expect(failure(() => parseStepsText("5,x,100")).message).toMatch(/"x" is not a number/);
    expect(failure(() => buildRolloutPlan({ steps: [5, 50, 25] })).message).toMatch(/weights must increase: 50 then 25/);
    expect(failure(() => buildRolloutPlan({ steps: [0, 50] })).message).toMatch(/in \(0, 100\]/);
    expect(failure(() => buildRolloutPlan({ steps: [50, 150] })).code).toBe("INVALID_OPTION");
    expect(failure(() => buildRolloutPlan({ steps: [50], blueGreen: true })).message).toMatch(/exclude each other/);
    for (const bad of ["30", "30x", "-1s", "s"]) expect(failure(() => parseIntervalMs(bad)).hint).toMatch(/500ms, 2s, 30s/);
    expect(failure(() => parseIntervalMs("10ms")).message).toMatch(/outside 100ms/);
    expect(failure(() => parseRolloutPlan({ strategy: "canary", steps: [5], intervalMs: 1000 })).code).toBe("INVALID_OPTION");

    const cases: Array<[string, RegExp]> = [
      ["interval: 30 seconds\n", /interval "30 seconds" is not a duration/],
      ["steps: [50, 10]\n", /weights must increase/],
      ["successRate: { min: 1.5 }\n", /not a rollout analysis file/],
      ["unknownKey: 1\n", /not a rollout analysis file/],
      ["steps: [1, 2\n", /not valid YAML or JSON/],
    ];
    for (const [text, message] of cases) {
      const path = temp.join("bad.yaml");
      await writeFile(path, text);
      const error = await readRolloutAnalysisFile(path).then(
        () => undefined,
        (e: unknown) => e as EdgeforgeError,
      );
      expect(error?.message).toMatch(message);
      expect(error?.code).toBe("INVALID_CONFIG");
      expect(error?.hint).toBeTruthy();
    }
    await expect(readRolloutAnalysisFile(temp.join("missing.yaml"))).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
  });
});
