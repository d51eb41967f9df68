import { EdgeforgeError } from "../core/errors.js";
import { metricInfo, requireMetricName, type Direction, type MetricName } from "./metric-catalog.js";

export interface Objective {
  metric: MetricName;
  direction: Direction;
  /** Relative importance for the recommendation; 1 when not given. */
  weight?: number;
}

/**
 * The default objectives: fast, small in memory and on disk, and still accurate. Speed is the
 * side-by-side `speedup` (p50 latency ratio for ONNX, tokens/s ratio for GGUF): the same figure
 * the speed-up gate judges, so ranking and gates never disagree on what "faster" means. Memory
 * is the model-attributable figure, as the memory gate uses.
 */
export const defaultObjectives: readonly Objective[] = Object.freeze([
  { metric: "speedup", direction: "maximize", weight: 1 },
  { metric: "modelMemoryBytes", direction: "minimize", weight: 1 },
  { metric: "sizeBytes", direction: "minimize", weight: 1 },
  { metric: "accuracyRetention", direction: "maximize", weight: 1 },
]);

/** `p95LatencyMs`, `p95LatencyMs:2` (weight 2) or `accuracy:max:3`; the direction defaults to the metric's. */
export function parseObjective(text: string, where = "--objective"): Objective {
  const [name = "", ...rest] = text.trim().split(":");
  const metric = requireMetricName(name.trim(), where);
  let direction = metricInfo(metric).direction;
  let weight = 1;
  for (const part of rest.map((p) => p.trim())) {
    if (part === "min" || part === "minimize") direction = "minimize";
    else if (part === "max" || part === "maximize") direction = "maximize";
    else if (/^\d+(\.\d+)?$/.test(part) && Number(part) > 0) weight = Number(part);
    else {
      throw new EdgeforgeError("INVALID_CONFIG", `cannot parse objective "${text}" in ${where}`, {
        hint: "write METRIC[:min|max][:WEIGHT], e.g. p95LatencyMs:2 or accuracyRetention:max:3 (weights > 0)",
        details: { text, where },
      });
    }
  }
  return { metric, direction, weight };
}
