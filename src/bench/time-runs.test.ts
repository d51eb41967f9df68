import { describe, expect, it } from "vitest";
import { checkStability, latencyStats, settleRuns, timeRuns, type Clock } from "./time-runs.js";

/** A clock that advances by the given step for each run, as if each run took that long. */
function scriptedClock(durationsNs: number[]): { clock: Clock; run: () => Promise<void> } {
  let now = 0n;
  let index = 0;
  return {
    clock: () => now,
    run: async () => {
      now += BigInt(durationsNs[index % durationsNs.length] as number);
      index += 1;
    },
  };
}

describe("timeRuns", () => {
  it("records one latency per run for a fixed count, summing to the loop time", async () => {
    const { clock, run } = scriptedClock([1_000_000, 3_000_000]);
    const timed = await timeRuns(run, { iterations: 4 }, clock);
    expect(timed.rule).toBe("iterations");
    expect(timed.latenciesNs).toEqual([1e6, 3e6, 1e6, 3e6]);
    expect(timed.measuredNs).toBe(8e6);
    expect(timed.converged).toBe(true);
  });

  it("min-time rule: stops once past the minimum when the mean is precise enough", async () => {
    const { clock, run } = scriptedClock([1_000_000]);
    const timed = await timeRuns(run, { minTimeMs: 20, minIterations: 5 }, clock);
    expect(timed.rule).toBe("min-time");
    expect(timed.latenciesNs.length).toBe(20);
    expect(timed.converged).toBe(true);
  });

  it("min-time rule: keeps going while noisy and stops unconverged at the time cap", async () => {
    const { clock, run } = scriptedClock([1_000_000, 9_000_000]);
    const timed = await timeRuns(run, { minTimeMs: 10, maxTimeMs: 50, minIterations: 2, targetRelativeError: 0.001 }, clock);
    expect(timed.converged).toBe(false);
    expect(timed.measuredNs).toBeGreaterThanOrEqual(50e6);
    expect(timed.measuredNs).toBeLessThan(60e6);
  });
});

describe("settleRuns", () => {
  it("runs untimed until the settle time has passed, the run in progress included, and not at all for 0", async () => {
    const { clock, run } = scriptedClock([3_000_000]);
    const indices: number[] = [];
    expect(await settleRuns(async (i) => { indices.push(i); await run(); }, 10, clock)).toBe(4);
    expect(indices).toEqual([0, 1, 2, 3]);
    expect(await settleRuns(run, 0, clock)).toBe(0);
    // A block's re-warm: at least one run even when the time is already spent.
    expect(await settleRuns(run, 0, clock, 1)).toBe(1);
    expect(await settleRuns(run, 1, clock, 3)).toBe(3);
  });
});

describe("latencyStats and checkStability", () => {
  it("reports milliseconds and CV", () => {
    const stats = latencyStats([1e6, 2e6, 3e6]);
    expect(stats).toMatchObject({ count: 3, minMs: 1, p50Ms: 2, maxMs: 3 });
    expect(stats.cv).toBeCloseTo(0.5, 12);
  });

  it("flags high CV, drift between halves and non-convergence, and nothing for steady runs", () => {
    const steady = checkStability({ rule: "iterations", latenciesNs: Array(20).fill(1e6), measuredNs: 20e6, converged: true }, 0.1);
    expect(steady.flags).toEqual([]);
    const drifting = [...Array(10).fill(1e6), ...Array(10).fill(1.5e6)];
    const check = checkStability({ rule: "min-time", latenciesNs: drifting, measuredNs: 25e6, converged: false }, 0.1);
    expect(check.driftRatio).toBeCloseTo(0.5, 12);
    expect(check.flags).toEqual(["high-cv", "drift", "not-converged"]);
  });
});
