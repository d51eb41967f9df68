import { describe, expect, it } from "vitest";
import { computeFrontier, dominates } from "./frontier.js";
import type { Objective } from "./objective.js";

const objectives: Objective[] = [
  { metric: "p50LatencyMs", direction: "minimize" },
  { metric: "accuracyRetention", direction: "maximize" },
];

describe("dominates", () => {
  it("needs no-worse on all objectives and better on one", () => {
    expect(dominates({ p50LatencyMs: 5, accuracyRetention: 0.99 }, { p50LatencyMs: 6, accuracyRetention: 0.99 }, objectives)).toBe(true);
    expect(dominates({ p50LatencyMs: 5, accuracyRetention: 0.9 }, { p50LatencyMs: 6, accuracyRetention: 0.99 }, objectives)).toBe(false);
  });

  it("treats equal points as non-dominating in both directions", () => {
    const a = { p50LatencyMs: 5, accuracyRetention: 0.99 };
    expect(dominates(a, { ...a }, objectives)).toBe(false);
  });

  it("counts values within the relative tolerance as ties", () => {
    const a = { p50LatencyMs: 5.0, accuracyRetention: 0.99 };
    const b = { p50LatencyMs: 5.04, accuracyRetention: 0.99 };
    expect(dominates(a, b, objectives)).toBe(true);
    expect(dominates(a, b, objectives, { relativeTolerance: 0.01 })).toBe(false);
  });

  it("ranks a missing value below any measured one", () => {
    expect(dominates({ p50LatencyMs: 5, accuracyRetention: 0.5 }, { p50LatencyMs: 5 }, objectives)).toBe(true);
    expect(dominates({ p50LatencyMs: 5 }, { p50LatencyMs: 5, accuracyRetention: 0.5 }, objectives)).toBe(false);
  });
});

describe("computeFrontier", () => {
  it("keeps exactly the non-dominated points and names their dominators", () => {
    const points = [
      { id: "fp32", values: { p50LatencyMs: 10, accuracyRetention: 1 } },
      { id: "fp16", values: { p50LatencyMs: 12, accuracyRetention: 0.999 } },
      { id: "int8", values: { p50LatencyMs: 4, accuracyRetention: 0.97 } },
      { id: "int8-copy", values: { p50LatencyMs: 4, accuracyRetention: 0.97 } },
      { id: "int4", values: { p50LatencyMs: 6, accuracyRetention: 0.9 } },
    ];
    const frontier = computeFrontier(points, objectives);
    expect(frontier.frontierIds).toEqual(["fp32", "int8", "int8-copy"]);
    expect(frontier.dominatedBy).toEqual({ fp16: ["fp32"], int4: ["int8", "int8-copy"] });
  });

  it("respects directions: flipping accuracy to minimize changes the frontier", () => {
    const points = [
      { id: "a", values: { p50LatencyMs: 10, accuracyRetention: 1 } },
      { id: "b", values: { p50LatencyMs: 10, accuracyRetention: 0.5 } },
    ];
    expect(computeFrontier(points, objectives).frontierIds).toEqual(["a"]);
    const flipped: Objective[] = [objectives[0] as Objective, { metric: "accuracyRetention", direction: "minimize" }];
    expect(computeFrontier(points, flipped).frontierIds).toEqual(["b"]);
  });
});
