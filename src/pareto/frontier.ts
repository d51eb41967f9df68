import type { Direction, MetricValues } from "./metric-catalog.js";
import type { Objective } from "./objective.js";

export interface FrontierPoint {
  id: string;
  values: MetricValues;
}

export interface FrontierOptions {
  /**
   * Values within this relative distance count as equal, so measurement noise (1.00 ms vs
   * 1.01 ms) does not make one candidate "dominate" another. 0 = exact comparison.
   */
  relativeTolerance?: number;
}

/** -1: a better, 0: tie, 1: b better. A missing value is worse than any measured one. */
function compareOn(a: number | undefined, b: number | undefined, direction: Direction, tolerance: number): -1 | 0 | 1 {
  if (a === undefined || b === undefined) {
    if (a === undefined && b === undefined) return 0;
    return a === undefined ? 1 : -1;
  }
  const scale = Math.max(Math.abs(a), Math.abs(b));
  if (Math.abs(a - b) <= tolerance * scale) return 0;
  const aBetter = direction === "minimize" ? a < b : a > b;
  return aBetter ? -1 : 1;
}

/** True when `a` is no worse than `b` on every objective and strictly better on at least one. Equal points do not dominate each other. */
export function dominates(a: MetricValues, b: MetricValues, objectives: readonly Objective[], options: FrontierOptions = {}): boolean {
  const tolerance = options.relativeTolerance ?? 0;
  let strictlyBetter = false;
  for (const objective of objectives) {
    const order = compareOn(a[objective.metric], b[objective.metric], objective.direction, tolerance);
    if (order === 1) return false;
    if (order === -1) strictlyBetter = true;
  }
  return strictlyBetter;
}

export interface Frontier {
  /** Non-dominated ids, in input order. Ties (equal on every objective) all stay. */
  frontierIds: string[];
  /** For each dominated id, the ids that dominate it (for "why not this one" in reports). */
  dominatedBy: Record<string, string[]>;
}

export function computeFrontier(points: readonly FrontierPoint[], objectives: readonly Objective[], options: FrontierOptions = {}): Frontier {
  const frontierIds: string[] = [];
  const dominatedBy: Record<string, string[]> = {};
  for (const point of points) {
    const dominators = points.filter((other) => other !== point && dominates(other.values, point.values, objectives, options)).map((other) => other.id);
    if (dominators.length === 0) frontierIds.push(point.id);
    else dominatedBy[point.id] = dominators;
  }
  return { frontierIds, dominatedBy };
}
