import { describe, expect, it } from "vitest";
import { EdgeforgeError } from "../core/errors.js";
import { assertSatisfiable, parseConstraint } from "./constraint.js";
import { parseObjective } from "./objective.js";

function errorOf(fn: () => unknown): EdgeforgeError {
  try {
    fn();
  } catch (error) {
    if (EdgeforgeError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected an error");
}

describe("parseConstraint", () => {
  it("parses the issue's examples with units", () => {
    expect(parseConstraint("p95LatencyMs <= 20")).toMatchObject({ metric: "p95LatencyMs", op: "<=", value: 20 });
    expect(parseConstraint("peakRssBytes <= 512MB").value).toBe(512e6);
    expect(parseConstraint("peakRssBytes<2GiB").value).toBe(2 * 1024 ** 3);
    expect(parseConstraint("accuracyRetention >= 95%").value).toBeCloseTo(0.95, 12);
    expect(parseConstraint("speedup >= 2x").value).toBe(2);
    expect(parseConstraint("p50LatencyMs < 1.5s").value).toBe(1500);
  });

  it("rejects an unknown metric with the list of known ones", () => {
    const error = errorOf(() => parseConstraint("latency <= 20"));
    expect(error.code).toBe("INVALID_CONFIG");
    expect(error.hint).toContain("p95LatencyMs");
    expect(error.details.knownMetrics).toContain("accuracyRetention");
  });

  it("rejects malformed expressions and unit mismatches", () => {
    expect(errorOf(() => parseConstraint("p95LatencyMs = 20")).code).toBe("INVALID_CONFIG");
    expect(errorOf(() => parseConstraint("p95LatencyMs <= 20MB")).code).toBe("INVALID_CONFIG");
    expect(errorOf(() => parseConstraint("peakRssBytes <= lots")).code).toBe("INVALID_CONFIG");
  });
});

describe("assertSatisfiable", () => {
  it("rejects bounds that cannot both hold", () => {
    const error = errorOf(() => assertSatisfiable([parseConstraint("p95LatencyMs <= 10"), parseConstraint("p95LatencyMs >= 20")], "test"));
    expect(error.code).toBe("INVALID_CONFIG");
    expect(error.message).toContain("contradictory");
    expect(errorOf(() => assertSatisfiable([parseConstraint("sizeBytes < 10"), parseConstraint("sizeBytes >= 10")], "test")).code).toBe(
      "INVALID_CONFIG",
    );
  });

  it("accepts a non-empty range", () => {
    expect(() => assertSatisfiable([parseConstraint("sizeBytes <= 10"), parseConstraint("sizeBytes >= 10"), parseConstraint("p50LatencyMs <= 1")], "t")).not.toThrow();
  });
});

describe("parseObjective", () => {
  it("takes the direction from the catalog and an optional weight", () => {
    expect(parseObjective("p95LatencyMs")).toEqual({ metric: "p95LatencyMs", direction: "minimize", weight: 1 });
    expect(parseObjective("accuracyRetention:3")).toEqual({ metric: "accuracyRetention", direction: "maximize", weight: 3 });
    expect(parseObjective("sizeBytes:max:2")).toEqual({ metric: "sizeBytes", direction: "maximize", weight: 2 });
    expect(errorOf(() => parseObjective("sizeBytes:heavy")).code).toBe("INVALID_CONFIG");
    expect(errorOf(() => parseObjective("speed")).code).toBe("INVALID_CONFIG");
  });
});
