import type { Gate } from "./gate.js";

/**
 * The seed's acceptance bar: keep ≥ 95% of the baseline's accuracy, run at least 2× faster and
 * use at least 50% less memory. `speedup` and `memoryReduction` are measured against the
 * baseline in the same run.
 */
export const defaultGates: readonly Gate[] = Object.freeze([
  { name: "accuracy-retention", metric: "accuracyRetention", goal: "threshold", op: ">=", value: 0.95, priority: 1 },
  { name: "speed-up", metric: "speedup", goal: "threshold", op: ">=", value: 2, priority: 2 },
  { name: "memory-reduction", metric: "memoryReduction", goal: "threshold", op: ">=", value: 0.5, priority: 3 },
]);
