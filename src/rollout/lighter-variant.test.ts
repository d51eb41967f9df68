import { describe, expect, it } from "vitest";
import { chooseLighterVariant, type VariantFacts } from "./lighter-variant.js";

const v = (version: string, certified: boolean, sizeBytes: number, metrics: VariantFacts["metrics"] = {}): VariantFacts => ({ version, certified, sizeBytes, metrics });

describe("chooseLighterVariant", () => {
  it("steps one variant down the Pareto frontier by latency, skipping dominated and uncertified ones", () => {
    const variants = [
      v("fp32", true, 100, { p50LatencyMs: 10, accuracy: 0.99 }),
      v("fp16", true, 50, { p50LatencyMs: 7, accuracy: 0.985 }),
      v("int8", true, 25, { p50LatencyMs: 4, accuracy: 0.97 }),
      v("int8-bad", true, 30, { p50LatencyMs: 5, accuracy: 0.9 }), // dominated by int8
      v("int4", false, 12, { p50LatencyMs: 3, accuracy: 0.95 }), // not certified
    ];
    expect(chooseLighterVariant(variants, "fp32")).toMatchObject({ version: "fp16", reason: expect.stringMatching(/by p50 latency: 7 < 10 ms/) });
    expect(chooseLighterVariant(variants, "fp16").version).toBe("int8");
    const none = chooseLighterVariant(variants, "int8");
    expect(none.version).toBeUndefined();
    expect(none.reason).toMatch(/no certified version on the Pareto frontier/);
  });

  it("falls back to size when latency is not measured for every version, and says why when nothing fits", () => {
    // with size the only objective (no latency for all, no quality), the frontier is the smallest certified version
    expect(chooseLighterVariant([v("1", false, 100), v("2", true, 60), v("3", true, 30)], "1")).toMatchObject({ version: "3", reason: expect.stringMatching(/by size/) });
    expect(chooseLighterVariant([v("1", false, 100, { accuracy: 0.99 }), v("2", true, 60, { accuracy: 0.98 }), v("3", true, 30, { accuracy: 0.9 })], "1").version).toBe("2");
    expect(chooseLighterVariant([v("1", false, 100), v("2", false, 60)], "1").reason).toMatch(/no other certified/);
    expect(chooseLighterVariant([v("1", true, 100)], "9").reason).toMatch(/not in the registry/);
  });
});
