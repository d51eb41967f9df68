import { findViolations, type Constraint, type ConstraintViolation } from "./constraint.js";
import { computeFrontier, type FrontierOptions, type FrontierPoint } from "./frontier.js";
import type { Objective } from "./objective.js";

export interface RecommendOptions extends FrontierOptions {
  constraints?: readonly Constraint[];
}

export interface ScoredCandidate {
  id: string;
  /** Weighted mean of per-objective scores in [0, 1], 1 = best among the feasible candidates. */
  score: number;
  /** Per-objective normalized score, same scale. */
  objectiveScores: Record<string, number>;
}

export interface Recommendation {
  /** Undefined when no candidate satisfies the hard constraints. */
  recommendedId: string | undefined;
  /** Frontier among all points (what the scatter plot highlights). */
  frontierIds: string[];
  /** Frontier among the feasible points, best score first. */
  ranked: ScoredCandidate[];
  dominatedBy: Record<string, string[]>;
  infeasible: { id: string; violations: ConstraintViolation[] }[];
}

/**
 * Pick one candidate: drop those that break a hard constraint, keep the Pareto frontier of the
 * rest, min-max normalize each objective over that set (1 = best) and take the highest weighted
 * mean. Normalizing keeps milliseconds and megabytes comparable; ties go to the earlier input.
 */
export function recommendCandidate(points: readonly FrontierPoint[], objectives: readonly Objective[], options: RecommendOptions = {}): Recommendation {
  const constraints = options.constraints ?? [];
  const overall = computeFrontier(points, objectives, options);
  const infeasible: Recommendation["infeasible"] = [];
  const feasible: FrontierPoint[] = [];
  for (const point of points) {
    const violations = findViolations(point.values, constraints);
    if (violations.length > 0) infeasible.push({ id: point.id, violations });
    else feasible.push(point);
  }
  const feasibleFrontier = computeFrontier(feasible, objectives, options);
  const frontierPoints = feasible.filter((point) => feasibleFrontier.frontierIds.includes(point.id));
  const ranked = scorePoints(frontierPoints, objectives).sort((a, b) => b.score - a.score);
  return {
    recommendedId: ranked[0]?.id,
    frontierIds: overall.frontierIds,
    ranked,
    dominatedBy: overall.dominatedBy,
    infeasible,
  };
}

export function scorePoints(points: readonly FrontierPoint[], objectives: readonly Objective[]): ScoredCandidate[] {
  const ranges = objectives.map((objective) => {
    const values = points.map((p) => p.values[objective.metric]).filter((v): v is number => v !== undefined);
    return { min: Math.min(...values), max: Math.max(...values) };
  });
  const totalWeight = objectives.reduce((sum, o) => sum + (o.weight ?? 1), 0);
  return points.map((point) => {
    const objectiveScores: Record<string, number> = {};
    let weighted = 0;
    objectives.forEach((objective, index) => {
      const range = ranges[index] as { min: number; max: number };
      const value = point.values[objective.metric];
      let score: number;
      if (value === undefined) score = 0;
      else if (range.max === range.min) score = 1;
      else {
        const position = (value - range.min) / (range.max - range.min);
        score = objective.direction === "maximize" ? position : 1 - position;
      }
      objectiveScores[objective.metric] = score;
      weighted += score * (objective.weight ?? 1);
    });
    return { id: point.id, score: totalWeight > 0 ? weighted / totalWeight : 0, objectiveScores };
  });
}
