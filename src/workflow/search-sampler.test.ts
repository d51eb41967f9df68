import { describe, expect, it } from "vitest";
import { chooseStrategy, createSampler, type Observation, type SamplerStrategy, type SearchPoint } from "./search-sampler.js";

function grid(): SearchPoint[] {
  const points: SearchPoint[] = [];
  for (let a = 0; a < 5; a += 1) for (let b = 0; b < 5; b += 1) for (let c = 0; c < 4; c += 1) points.push({ key: `${a}${b}${c}`, coordinates: { a: String(a), b: String(b), c: String(c) } });
  return points;
}

const loss = (p: SearchPoint): number => (Number(p.coordinates.a) - 3) ** 2 + (Number(p.coordinates.b) - 1) ** 2 + Number(p.coordinates.c);

function bestAfter(strategy: SamplerStrategy, seed: number, budget: number): number {
  const points = grid();
  const sampler = createSampler(strategy, points, { seed });
  const history: Observation[] = [];
  for (let i = 0; i < budget; i += 1) {
    const point = sampler.propose(history);
    if (!point) break;
    history.push({ key: point.key, loss: loss(point) });
  }
  return Math.min(...history.map((o) => o.loss));
}

describe("samplers", () => {
  it("exhaustive visits every point once, in order, then stops", () => {
    const points = grid().slice(0, 5);
    const sampler = createSampler("exhaustive", points, { seed: 1 });
    const history: Observation[] = [];
    for (let point = sampler.propose(history); point; point = sampler.propose(history)) history.push({ key: point.key, loss: 0 });
    expect(history.map((o) => o.key)).toEqual(points.map((p) => p.key));
  });

  it("random is a seeded permutation without repeats", () => {
    const run = (seed: number): string[] => {
      const sampler = createSampler("random", grid(), { seed });
      const history: Observation[] = [];
      for (let i = 0; i < 100; i += 1) history.push({ key: (sampler.propose(history) as SearchPoint).key, loss: 0 });
      return history.map((o) => o.key);
    };
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
    expect(new Set(run(3)).size).toBe(100);
  });

  it("tpe finds better points than random search on the same budget (mean over 30 seeds)", () => {
    const seeds = Array.from({ length: 30 }, (_, i) => i + 1);
    const mean = (strategy: SamplerStrategy): number => seeds.reduce((sum, seed) => sum + bestAfter(strategy, seed, 12), 0) / seeds.length;
    const tpe = mean("tpe");
    const random = mean("random");
    expect(tpe).toBeLessThan(random);
    expect(tpe).toBeLessThan(1);
  });

  it("tpe never proposes a point twice and exhausts the space", () => {
    const sampler = createSampler("tpe", grid(), { seed: 5 });
    const history: Observation[] = [];
    for (let point = sampler.propose(history); point; point = sampler.propose(history)) history.push({ key: point.key, loss: loss(point) });
    expect(new Set(history.map((o) => o.key)).size).toBe(100);
    expect(history).toHaveLength(100);
  });

  it("auto picks exhaustive when the space fits the budget, tpe otherwise", () => {
    expect(chooseStrategy("auto", 10, 12)).toBe("exhaustive");
    expect(chooseStrategy("auto", 40, 12)).toBe("tpe");
    expect(chooseStrategy("random", 4, 12)).toBe("random");
  });
});
