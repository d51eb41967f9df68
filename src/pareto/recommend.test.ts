import { describe, expect, it } from "vitest";
import { parseConstraint } from "./constraint.js";
import type { Objective } from "./objective.js";
import { recommendCandidate, scorePoints } from "./recommend.js";

const objectives: Objective[] = [
  { metric: "p95LatencyMs", direction: "minimize", weight: 1 },
  { metric: "peakRssBytes", direction: "minimize", weight: 1 },
  { metric: "accuracyRetention", direction: "maximize", weight: 1 },
];

const points = [
  { id: "fast", values: { p95LatencyMs: 5, peakRssBytes: 300e6, accuracyRetention: 0.9 } },
  { id: "balanced", values: { p95LatencyMs: 10, peakRssBytes: 200e6, accuracyRetention: 0.98 } },
  { id: "accurate", values: { p95LatencyMs: 30, peakRssBytes: 600e6, accuracyRetention: 1 } },
  { id: "dominated", values: { p95LatencyMs: 40, peakRssBytes: 700e6, accuracyRetention: 0.95 } },
];

describe("recommendCandidate", () => {
  it("picks the best weighted normalized score on the feasible frontier", () => {
    const result = recommendCandidate(points, objectives);
    expect(result.frontierIds).toEqual(["fast", "balanced", "accurate"]);
    expect(result.recommendedId).toBe("balanced");
    expect(result.ranked.map((r) => r.id)).not.toContain("dominated");
  });

  it("follows the weights", () => {
    const accuracyFirst = objectives.map((o) => (o.metric === "accuracyRetention" ? { ...o, weight: 10 } : o));
    expect(recommendCandidate(points, accuracyFirst).recommendedId).toBe("accurate");
    const speedFirst = objectives.map((o) => (o.metric === "p95LatencyMs" ? { ...o, weight: 10 } : o));
    expect(recommendCandidate(points, speedFirst).recommendedId).toBe("fast");
  });

  it("never recommends a candidate that breaks a hard constraint", () => {
    const constraints = [parseConstraint("accuracyRetention >= 99%"), parseConstraint("peakRssBytes <= 650MB")];
    const result = recommendCandidate(points, objectives, { constraints });
    expect(result.recommendedId).toBe("accurate");
    expect(result.infeasible.map((i) => i.id)).toEqual(["fast", "balanced", "dominated"]);
  });

  it("returns no recommendation when nothing is feasible", () => {
    const result = recommendCandidate(points, objectives, { constraints: [parseConstraint("p95LatencyMs <= 1")] });
    expect(result.recommendedId).toBeUndefined();
    expect(result.infeasible).toHaveLength(4);
    expect(result.infeasible[0]?.violations[0]?.measured).toBe(5);
  });

  it("treats an unmeasured constrained metric as a violation", () => {
    const result = recommendCandidate([{ id: "x", values: { p95LatencyMs: 1 } }], objectives, { constraints: [parseConstraint("peakRssBytes <= 1GB")] });
    expect(result.recommendedId).toBeUndefined();
  });
});

describe("scorePoints", () => {
  it("normalizes each objective to [0, 1] with 1 = best (tolerance 1e-12)", () => {
    const [a, b] = scorePoints(
      [
        { id: "a", values: { p95LatencyMs: 10, accuracyRetention: 0.9 } },
        { id: "b", values: { p95LatencyMs: 20, accuracyRetention: 1 } },
      ],
      [objectives[0] as Objective, objectives[2] as Objective],
    );
    expect(a?.objectiveScores).toEqual({ p95LatencyMs: 1, accuracyRetention: 0 });
    expect(b?.objectiveScores.accuracyRetention).toBeCloseTo(1, 12);
    expect(a?.score).toBeCloseTo(0.5, 12);
  });
});
