import { describe, expect, it } from "vitest";
import { bootstrapInterval } from "./bootstrap.js";
import { describeSamples } from "./describe-samples.js";
import { createRandom, shuffled } from "./random.js";

describe("createRandom", () => {
  it("is reproducible for a seed and differs across seeds", () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const c = createRandom(43);
    const seqA = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(seqA);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(seqA);
  });

  it("draws uniform values in [0, 1) and normals with the requested moments (tolerance 0.05)", () => {
    const random = createRandom(7);
    const uniform = Array.from({ length: 20000 }, () => random.next());
    expect(Math.min(...uniform)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...uniform)).toBeLessThan(1);
    expect(describeSamples(uniform).mean).toBeCloseTo(0.5, 1);
    const normal = describeSamples(Array.from({ length: 20000 }, () => random.normal(3, 2)));
    expect(Math.abs(normal.mean - 3)).toBeLessThan(0.05);
    expect(Math.abs(normal.sd - 2)).toBeLessThan(0.05);
  });

  it("int stays in [low, high)", () => {
    const random = createRandom(1);
    const draws = Array.from({ length: 1000 }, () => random.int(3, 6));
    expect(new Set(draws)).toEqual(new Set([3, 4, 5]));
  });
});

describe("shuffled", () => {
  it("permutes without modifying the input, reproducibly", () => {
    const items = [1, 2, 3, 4, 5, 6, 7, 8];
    const once = shuffled(items, createRandom(9));
    expect(items).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...once].sort()).toEqual(items);
    expect(shuffled(items, createRandom(9))).toEqual(once);
  });
});

describe("bootstrapInterval", () => {
  it("brackets the sample median and narrows with more data", () => {
    const random = createRandom(5);
    const small = Array.from({ length: 20 }, () => random.normal(10, 1));
    const large = Array.from({ length: 2000 }, () => random.normal(10, 1));
    const smallCi = bootstrapInterval(small, createRandom(1), { resamples: 500 });
    const largeCi = bootstrapInterval(large, createRandom(1), { resamples: 500 });
    const smallMedian = describeSamples(small).p50;
    expect(smallCi.low).toBeLessThanOrEqual(smallMedian);
    expect(smallCi.high).toBeGreaterThanOrEqual(smallMedian);
    expect(largeCi.high - largeCi.low).toBeLessThan(smallCi.high - smallCi.low);
    expect(largeCi.low).toBeLessThan(10.1);
    expect(largeCi.high).toBeGreaterThan(9.9);
  });
});
