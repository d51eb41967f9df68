import { describe, expect, it } from "vitest";
import type { ArmResult } from "../bench/measure-side-by-side.js";
import { describeBaselineBlocks, formatBaselineMovement, isUnsteady, poolBaselineBlocks } from "./baseline-blocks.js";

/** The block figures of an arm; the rest of ArmResult is not read. */
function arm(blocks: Partial<Pick<ArmResult, "blockP50Ms" | "blockRatePerSec" | "blockGenerationPerSec" | "rateUnit">>): ArmResult {
  return { blockP50Ms: [], blockRatePerSec: [], rateUnit: "samples", ...blocks } as unknown as ArmResult;
}

const window = (min: number, median: number, max: number) => ({ metric: "generated tokens/s", min, median, max, blocks: 6 });

describe("baseline blocks", () => {
  it("reads the blocks of the metric the speed-up uses", () => {
    const a = arm({ blockP50Ms: [10, 11, 12.5], blockRatePerSec: [90, 80], blockGenerationPerSec: [75, 142, 100], rateUnit: "tokens" });
    expect(describeBaselineBlocks(a, "latency")).toEqual({ metric: "ms p50", min: 10, median: 11, max: 12.5, blocks: 3 });
    expect(describeBaselineBlocks(a, "rate")).toEqual({ metric: "prompt tokens/s", min: 80, median: 85, max: 90, blocks: 2 });
    expect(describeBaselineBlocks(a, "generation")).toMatchObject({ min: 75, median: 100, max: 142 });
    expect(describeBaselineBlocks(arm({ blockP50Ms: [0, Number.NaN] }), "latency")).toBeUndefined();
  });

  it("pools a run's windows and flags a reference whose median moved 1.2× or more between them", () => {
    const pooled = poolBaselineBlocks([window(73.6, 95, 105.4), undefined, window(68.5, 78, 89)]);
    expect(pooled).toMatchObject({ windows: 2, lowestMedian: 78, highestMedian: 95, min: 68.5, max: 105.4, blocks: 12 });
    expect(pooled?.spread).toBeCloseTo(95 / 78, 12);
    expect(isUnsteady(pooled)).toBe(true);
    expect(formatBaselineMovement(pooled!)).toBe("moved 1.22× between the run's 2 measuring windows (window medians 78–95 generated tokens/s; single blocks 69–105)");
    expect(isUnsteady(poolBaselineBlocks([window(70, 80, 120), window(75, 90, 110)]))).toBe(false);
    // One window: its own scatter is in its interval already.
    expect(isUnsteady(poolBaselineBlocks([window(50, 80, 200)]))).toBe(false);
    expect(poolBaselineBlocks([undefined])).toBeUndefined();
  });
});
