import { createRandom, shuffled, type Random } from "../stats/random.js";

/** A fully specified candidate in the search space, as categorical coordinates (dimension → value). */
export interface SearchPoint {
  key: string;
  coordinates: Record<string, string>;
}

/** A finished evaluation; lower loss is better, failures are +Infinity. */
export interface Observation {
  key: string;
  loss: number;
}

export type SamplerStrategy = "exhaustive" | "random" | "tpe";

export interface SearchSampler {
  readonly strategy: SamplerStrategy;
  /** The next point to evaluate, or undefined when every point has been proposed. */
  propose(history: readonly Observation[]): SearchPoint | undefined;
}

export interface TpeOptions {
  seed: number;
  /** Random proposals before the model takes over. */
  startupTrials?: number;
  /** Fraction of observations counted as "good". */
  gamma?: number;
}

export function createSampler(strategy: SamplerStrategy, points: readonly SearchPoint[], options: TpeOptions): SearchSampler {
  switch (strategy) {
    case "exhaustive":
      return orderedSampler("exhaustive", points);
    case "random":
      return orderedSampler("random", shuffled(points, createRandom(options.seed)));
    case "tpe":
      return createTpeSampler(points, options);
  }
}

function orderedSampler(strategy: SamplerStrategy, order: readonly SearchPoint[]): SearchSampler {
  return {
    strategy,
    propose(history) {
      const seen = new Set(history.map((o) => o.key));
      return order.find((point) => !seen.has(point.key));
    },
  };
}

/**
 * Tree-structured Parzen estimator over categorical dimensions (Bergstra et al. 2011): split
 * the observations into good (lowest-loss γ fraction) and bad, model each as independent
 * per-dimension categorical distributions with a uniform prior, and propose the unseen point
 * that maximizes l(x)/g(x). The space is finite, so every unseen point is scored exactly
 * instead of sampling candidates from l(x).
 */
export function createTpeSampler(points: readonly SearchPoint[], options: TpeOptions): SearchSampler {
  const random = createRandom(options.seed);
  const startupTrials = options.startupTrials ?? 4;
  const gamma = options.gamma ?? 0.25;
  const byKey = new Map(points.map((p) => [p.key, p]));
  const dimensions = [...new Set(points.flatMap((p) => Object.keys(p.coordinates)))];
  const valuesOf = new Map(dimensions.map((d) => [d, [...new Set(points.map((p) => p.coordinates[d] ?? "-"))]]));
  // Random tie-break order, fixed per sampler so runs with one seed repeat exactly.
  const order = shuffled(points, random);
  return {
    strategy: "tpe",
    propose(history) {
      const seen = new Set(history.map((o) => o.key));
      const unseen = order.filter((p) => !seen.has(p.key));
      if (unseen.length === 0) return undefined;
      const observed = history.filter((o) => byKey.has(o.key));
      if (observed.length < startupTrials) return unseen[0];
      const sorted = [...observed].sort((a, b) => a.loss - b.loss);
      const goodCount = Math.max(1, Math.ceil(gamma * sorted.length));
      const good = sorted.slice(0, goodCount).map((o) => byKey.get(o.key) as SearchPoint);
      const bad = sorted.slice(goodCount).map((o) => byKey.get(o.key) as SearchPoint);
      const logDensity = (group: readonly SearchPoint[], dimension: string, value: string): number => {
        const values = valuesOf.get(dimension) as string[];
        const count = group.filter((p) => (p.coordinates[dimension] ?? "-") === value).length;
        return Math.log((count + 1) / (group.length + values.length));
      };
      let best = unseen[0] as SearchPoint;
      let bestScore = -Infinity;
      for (const point of unseen) {
        let score = 0;
        for (const dimension of dimensions) {
          const value = point.coordinates[dimension] ?? "-";
          score += logDensity(good, dimension, value) - logDensity(bad, dimension, value);
        }
        if (score > bestScore) {
          bestScore = score;
          best = point;
        }
      }
      return best;
    },
  };
}

/** Exhaustive when the whole space fits the budget; otherwise the model-based sampler. */
export function chooseStrategy(requested: "auto" | SamplerStrategy, spaceSize: number, maxCandidates: number): SamplerStrategy {
  if (requested !== "auto") return requested;
  return spaceSize <= maxCandidates ? "exhaustive" : "tpe";
}

export type { Random };
