import { describe, expect, it } from "vitest";
import type { RolloutStatus } from "../../rollout/rollout-status.js";
import { renderRolloutStatus } from "./rollout.js";

describe("rollout status for humans", () => {
  it("lists analyses and decisions in one time line, newest first", () => {
    const analysis = (atIso: string, step: number, verdict: "pass" | "fail", reason: string) => ({ step, weightPercent: [5, 25][step]!, atIso, verdict, measured: {}, thresholds: {}, reasons: [reason] });
    const status = {
      model: "mnist",
      stable: { version: "1", weight: 0.75 },
      candidate: { version: "2", weight: 0.25 },
      state: "paused",
      strategy: "canary",
      stepIndex: 1,
      steps: [5, 25, 100],
      intervalMs: 30000,
      rolloutId: 3,
      analysis: [analysis("2026-12-04T10:02:00.000Z", 1, "fail", "3 candidate requests"), analysis("2026-12-04T10:01:00.000Z", 0, "pass", "within thresholds")],
      decisions: [
        { atIso: "2026-12-04T10:02:00.000Z", kind: "pause", actor: "controller", details: { reason: "too few requests" } },
        { atIso: "2026-12-04T10:01:00.500Z", kind: "step", actor: "controller", details: {} },
        { atIso: "2026-12-04T10:00:00.000Z", kind: "start", actor: "alice", details: {} },
      ],
    } as unknown as RolloutStatus;
    expect(renderRolloutStatus(status).split("\n").slice(3)).toEqual([
      // Same millisecond as the analysis that caused it: listed above it.
      "  2026-12-04T10:02:00.000Z pause by controller: too few requests",
      "  2026-12-04T10:02:00.000Z step 2 (25 %) fail: 3 candidate requests",
      "  2026-12-04T10:01:00.500Z step by controller",
      "  2026-12-04T10:01:00.000Z step 1 (5 %) pass: within thresholds",
      "  2026-12-04T10:00:00.000Z start by alice",
    ]);
  });
});
