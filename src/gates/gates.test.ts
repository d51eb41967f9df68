import { describe, expect, it } from "vitest";
import { EdgeforgeError } from "../core/errors.js";
import { assertGatesConsistent } from "./check-gates.js";
import { defaultGates } from "./default-gates.js";
import { describeGateResult } from "./describe-gate-result.js";
import { evaluateGates, findClosestCandidate, judgeCandidate } from "./evaluate-gates.js";
import { resolveGateBound, type Gate } from "./gate.js";
import { parseGateFlag, parseGatesDocument } from "./gates-file.js";

function errorOf(fn: () => unknown): EdgeforgeError {
  try {
    fn();
  } catch (error) {
    if (EdgeforgeError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected an error");
}

const gate = (partial: Partial<Gate> & Pick<Gate, "metric" | "goal" | "value">): Gate => ({ name: partial.metric, priority: 1, ...partial });

describe("resolveGateBound (tolerance 1e-12)", () => {
  it("follows the metric's direction for each goal type", () => {
    const latency = 10;
    expect(resolveGateBound(gate({ metric: "p50LatencyMs", goal: "threshold", value: 20 }), latency)).toEqual({ op: "<=", bound: 20 });
    expect(resolveGateBound(gate({ metric: "p50LatencyMs", goal: "min-improvement", value: 3 }), latency)).toEqual({ op: "<=", bound: 7 });
    expect(resolveGateBound(gate({ metric: "p50LatencyMs", goal: "max-degradation", value: 3 }), latency)).toEqual({ op: "<=", bound: 13 });
    expect(resolveGateBound(gate({ metric: "p50LatencyMs", goal: "percent-min-improvement", value: 50 }), latency)?.bound).toBeCloseTo(5, 12);
    expect(resolveGateBound(gate({ metric: "p50LatencyMs", goal: "percent-max-degradation", value: 10 }), latency)?.bound).toBeCloseTo(11, 12);
    const accuracy = 0.8;
    expect(resolveGateBound(gate({ metric: "accuracy", goal: "min-improvement", value: 0.1 }), accuracy)?.bound).toBeCloseTo(0.9, 12);
    expect(resolveGateBound(gate({ metric: "accuracy", goal: "percent-max-degradation", value: 5 }), accuracy)).toMatchObject({ op: ">=" });
    expect(resolveGateBound(gate({ metric: "accuracy", goal: "percent-max-degradation", value: 5 }), accuracy)?.bound).toBeCloseTo(0.76, 12);
    expect(resolveGateBound(gate({ metric: "accuracy", goal: "max-degradation", value: 5 }), undefined)).toBeUndefined();
  });
});

describe("evaluateGates", () => {
  it("applies the seed's defaults with measured value, threshold and margin", () => {
    const results = evaluateGates(defaultGates, { accuracyRetention: 0.97, speedup: 1.6, memoryReduction: 0.6 }, {});
    expect(results.map((r) => r.passed)).toEqual([true, false, true]);
    const speed = results[1];
    expect(speed).toMatchObject({ gate: "speed-up", measured: 1.6, threshold: 2, op: ">=" });
    expect(speed?.margin).toBeCloseTo(-0.4, 12);
    expect(speed?.relativeMargin).toBeCloseTo(-0.2, 12);
    expect(describeGateResult(speed as NonNullable<typeof speed>)).toBe("speed-up: speedup 1.6 (needs >= 2): missed by 0.4 (20.0%)");
  });

  it("fails an unmeasured metric with a reason instead of passing it", () => {
    const [result] = evaluateGates([gate({ metric: "energyJoules", goal: "threshold", value: 1 })], {}, {});
    expect(result?.passed).toBe(false);
    expect(result?.reason).toContain("not measured");
  });

  it("judges relative goals against the baseline", () => {
    const g = [gate({ metric: "p95LatencyMs", goal: "percent-min-improvement", value: 50 })];
    expect(judgeCandidate("a", g, { p95LatencyMs: 4.9 }, { p95LatencyMs: 10 }).passed).toBe(true);
    expect(judgeCandidate("b", g, { p95LatencyMs: 5.1 }, { p95LatencyMs: 10 }).passed).toBe(false);
  });
});

describe("findClosestCandidate", () => {
  it("prefers passing high-priority gates, then the smaller shortfall", () => {
    const gates = [
      gate({ name: "acc", metric: "accuracyRetention", goal: "threshold", value: 0.95, priority: 1 }),
      gate({ name: "speed", metric: "speedup", goal: "threshold", value: 2, priority: 2 }),
    ];
    const verdicts = [
      judgeCandidate("fast-but-wrong", gates, { accuracyRetention: 0.5, speedup: 4 }, {}),
      judgeCandidate("accurate-slow", gates, { accuracyRetention: 0.99, speedup: 1.2 }, {}),
      judgeCandidate("accurate-nearly", gates, { accuracyRetention: 0.99, speedup: 1.9 }, {}),
    ];
    const closest = findClosestCandidate(verdicts);
    expect(closest?.candidateId).toBe("accurate-nearly");
    expect(closest?.missed.map((m) => m.gate)).toEqual(["speed"]);
    expect(findClosestCandidate([])).toBeUndefined();
  });
});

describe("gates files and flags", () => {
  it("parses YAML with every goal type, units and priorities", () => {
    const gates = parseGatesDocument(
      `schemaVersion: 1
gates:
  - { name: acc, metric: accuracyRetention, value: 95%, priority: 1 }
  - { metric: p95LatencyMs, goal: percent-min-improvement, value: 50, priority: 2 }
  - { metric: peakRssBytes, goal: threshold, value: 512MB }
  - { metric: accuracy, goal: max-degradation, value: 0.02 }
  - { metric: sizeBytes, goal: min-improvement, value: 1MiB }
  - { metric: perplexity, goal: percent-max-degradation, value: "10%" }
`,
      "gates.yaml",
    );
    expect(gates.map((g) => [g.name, g.goal, g.value])).toEqual([
      ["acc", "threshold", 0.95],
      ["p95LatencyMs", "percent-min-improvement", 50],
      ["peakRssBytes", "threshold", 512e6],
      ["accuracy", "max-degradation", 0.02],
      ["sizeBytes", "min-improvement", 1024 ** 2],
      ["perplexity", "percent-max-degradation", 10],
    ]);
    expect(gates[1]?.priority).toBe(2);
  });

  it("accepts JSON too", () => {
    const gates = parseGatesDocument(JSON.stringify({ schemaVersion: 1, gates: [{ metric: "speedup", value: 3 }] }), "g.json");
    expect(gates[0]).toMatchObject({ metric: "speedup", goal: "threshold", value: 3 });
  });

  it("rejects an unknown metric and lists the known ones", () => {
    const error = errorOf(() => parseGatesDocument("schemaVersion: 1\ngates:\n  - { metric: latency, value: 3 }\n", "g.yaml"));
    expect(error.code).toBe("INVALID_CONFIG");
    expect(error.message).toContain('"latency"');
    expect(error.hint).toContain("p95LatencyMs");
  });

  it("rejects contradictory gates", () => {
    const text = "schemaVersion: 1\ngates:\n  - { metric: p95LatencyMs, op: '<=', value: 10 }\n  - { metric: p95LatencyMs, op: '>=', value: 20 }\n";
    const error = errorOf(() => parseGatesDocument(text, "g.yaml"));
    expect(error.code).toBe("INVALID_CONFIG");
    expect(error.message).toContain("contradictory");
  });

  it("rejects contradictory percent goals without a baseline, mixed ones once the baseline is known", () => {
    const percent = [
      gate({ metric: "p50LatencyMs", goal: "percent-min-improvement", value: 50 }),
      gate({ metric: "p50LatencyMs", goal: "threshold", op: ">=", value: 8 }),
    ];
    expect(() => assertGatesConsistent(percent, undefined, "t")).not.toThrow();
    expect(() => assertGatesConsistent(percent, { p50LatencyMs: 10 }, "t")).toThrow(/contradictory/);
    expect(() => assertGatesConsistent(percent, { p50LatencyMs: 20 }, "t")).not.toThrow();
  });

  it("rejects schema mistakes: wrong version, unknown keys, unknown goal, op on a relative goal", () => {
    expect(errorOf(() => parseGatesDocument("schemaVersion: 2\ngates: [{metric: speedup, value: 2}]", "g")).code).toBe("INVALID_CONFIG");
    expect(errorOf(() => parseGatesDocument("schemaVersion: 1\ngates: [{metric: speedup, value: 2, limit: 3}]", "g")).code).toBe("INVALID_CONFIG");
    expect(errorOf(() => parseGatesDocument("schemaVersion: 1\ngates: [{metric: speedup, goal: better, value: 2}]", "g")).code).toBe("INVALID_CONFIG");
    expect(errorOf(() => parseGatesDocument("schemaVersion: 1\ngates: [{metric: speedup, goal: min-improvement, op: '>=', value: 2}]", "g")).code).toBe(
      "INVALID_CONFIG",
    );
    expect(errorOf(() => parseGatesDocument("gates: [", "g")).code).toBe("INVALID_CONFIG");
  });

  it("parses --gate flags", () => {
    expect(parseGateFlag("accuracyRetention >= 95%")).toMatchObject({ metric: "accuracyRetention", goal: "threshold", op: ">=", value: 0.95, priority: 1 });
    expect(parseGateFlag("p50LatencyMs percent-min-improvement 50 priority 2")).toMatchObject({ goal: "percent-min-improvement", value: 50, priority: 2 });
    expect(errorOf(() => parseGateFlag("p50LatencyMs faster 50")).code).toBe("INVALID_CONFIG");
    expect(errorOf(() => parseGateFlag("latency <= 3")).code).toBe("INVALID_CONFIG");
  });
});
