import { describe, expect, it } from "vitest";
import { generationTokenCount, timeGenerations } from "./time-generation.js";
import type { Clock } from "./time-runs.js";

/** A generation that reports `decodeNs` and moves the clock by `wallNs` (decode + reset), as if it ran that long. */
function scriptedGeneration(decodeNs: number, wallNs: number): { clock: Clock; generation: () => Promise<number>; calls: () => number } {
  let now = 0n;
  let calls = 0;
  return {
    clock: () => now,
    generation: async () => {
      now += BigInt(wallNs);
      calls += 1;
      return decodeNs;
    },
    calls: () => calls,
  };
}

describe("timeGenerations", () => {
  it("times at least the minimum count, counting tokens per generation and summing decode time only", async () => {
    const s = scriptedGeneration(1_000_000, 1_200_000);
    const timed = await timeGenerations(s.generation, { minTimeMs: 0, minGenerations: 4 }, s.clock);
    expect(timed).toEqual({ generations: 4, tokens: 4 * generationTokenCount, ns: 4e6 });
    expect(s.calls()).toBe(4);
  });

  it("keeps generating until the minimum time has passed", async () => {
    const s = scriptedGeneration(2_000_000, 2_000_000);
    const timed = await timeGenerations(s.generation, { minTimeMs: 15, minGenerations: 2 }, s.clock);
    expect(timed.generations).toBe(8);
    expect(timed.tokens).toBe(8 * generationTokenCount);
  });

  it("never reports zero generations (a rate needs one)", async () => {
    const s = scriptedGeneration(1, 1);
    expect((await timeGenerations(s.generation, { minTimeMs: 0, minGenerations: 0 }, s.clock)).generations).toBe(1);
  });
});
