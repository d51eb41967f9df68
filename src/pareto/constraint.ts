import { EdgeforgeError } from "../core/errors.js";
import { parseSizeBytes } from "../core/units.js";
import { metricInfo, requireMetricName, type MetricName, type MetricValues } from "./metric-catalog.js";

export const comparisonOps = ["<=", "<", ">=", ">"] as const;
export type ComparisonOp = (typeof comparisonOps)[number];

/** A hard bound on one metric, e.g. `p95LatencyMs <= 20`; values are in the metric's own unit. */
export interface Constraint {
  metric: MetricName;
  op: ComparisonOp;
  value: number;
  /** As the user wrote it, for messages and reports. */
  text: string;
}

const constraintPattern = /^\s*([A-Za-z][A-Za-z0-9]*)\s*(<=|>=|<|>)\s*(.+?)\s*$/;

/**
 * Parse `METRIC OP VALUE`. Sizes take units on byte metrics (`512MB`, `2GiB`), ratios take
 * percent (`95%` → 0.95) or a times sign (`2x`), times take `ms` or `s`.
 */
export function parseConstraint(text: string, where = "a constraint"): Constraint {
  const match = constraintPattern.exec(text);
  if (!match) {
    throw new EdgeforgeError("INVALID_CONFIG", `cannot parse constraint "${text}" in ${where}`, {
      hint: "write METRIC OP VALUE, e.g. \"p95LatencyMs <= 20\" or \"peakRssBytes <= 512MB\" (OP is <=, <, >= or >)",
      details: { text, where },
    });
  }
  const metric = requireMetricName(match[1] as string, where);
  const value = parseMetricValue(metric, match[3] as string, where);
  return { metric, op: match[2] as ComparisonOp, value, text: text.trim() };
}

/** A number in the metric's unit, accepting the unit suffixes that fit that metric. */
export function parseMetricValue(metric: MetricName, raw: string, where: string): number {
  const text = raw.trim();
  const unit = metricInfo(metric).unit;
  let value: number | undefined;
  if (/^-?\d+(\.\d+)?(e-?\d+)?$/i.test(text)) value = Number(text);
  else if (unit === "bytes") value = parseSizeBytes(text);
  else if (unit === "ratio" && /^-?\d+(\.\d+)?\s*%$/.test(text)) value = Number(text.replace("%", "")) / 100;
  else if (unit === "ratio" && /^\d+(\.\d+)?\s*[x×]$/i.test(text)) value = Number(text.replace(/[x×]/i, ""));
  else if (unit === "ms" && /^\d+(\.\d+)?\s*ms$/i.test(text)) value = Number(text.replace(/ms/i, ""));
  else if (unit === "ms" && /^\d+(\.\d+)?\s*s$/i.test(text)) value = Number(text.replace(/s/i, "")) * 1000;
  if (value === undefined || !Number.isFinite(value)) {
    throw new EdgeforgeError("INVALID_CONFIG", `"${raw}" is not a valid value for ${metric} (${unit}) in ${where}`, {
      hint:
        unit === "bytes"
          ? "use a byte count or a size such as 512MB or 2GiB"
          : unit === "ratio"
            ? "use a number, a percentage (95%) or a factor (2x)"
            : unit === "ms"
              ? "use milliseconds (20 or 20ms) or seconds (1.5s)"
              : "use a plain number",
      details: { metric, value: raw, unit, where },
    });
  }
  return value;
}

export function satisfiesOp(measured: number, op: ComparisonOp, bound: number): boolean {
  switch (op) {
    case "<=":
      return measured <= bound;
    case "<":
      return measured < bound;
    case ">=":
      return measured >= bound;
    case ">":
      return measured > bound;
  }
}

export interface ConstraintViolation {
  constraint: Constraint;
  /** Undefined when the metric was not measured for the candidate (counts as a violation). */
  measured: number | undefined;
}

export function findViolations(values: MetricValues, constraints: readonly Constraint[]): ConstraintViolation[] {
  const violations: ConstraintViolation[] = [];
  for (const constraint of constraints) {
    const measured = values[constraint.metric];
    if (measured === undefined || !satisfiesOp(measured, constraint.op, constraint.value)) {
      violations.push({ constraint, measured });
    }
  }
  return violations;
}

/**
 * Bounds on one metric that no value can satisfy together (`x <= 10` and `x >= 20`) are a
 * configuration mistake: report it before measuring anything.
 */
export function assertSatisfiable(constraints: readonly Constraint[], where: string): void {
  const byMetric = new Map<MetricName, Constraint[]>();
  for (const constraint of constraints) {
    byMetric.set(constraint.metric, [...(byMetric.get(constraint.metric) ?? []), constraint]);
  }
  for (const [metric, list] of byMetric) {
    const uppers = list.filter((c) => c.op === "<=" || c.op === "<");
    const lowers = list.filter((c) => c.op === ">=" || c.op === ">");
    for (const upper of uppers) {
      for (const lower of lowers) {
        const strict = upper.op === "<" || lower.op === ">";
        if (lower.value > upper.value || (strict && lower.value === upper.value)) {
          throw new EdgeforgeError("INVALID_CONFIG", `contradictory constraints in ${where}: "${lower.text}" and "${upper.text}" cannot both hold`, {
            hint: `relax one of the bounds on ${metric}`,
            details: { metric, lower: lower.text, upper: upper.text, where },
          });
        }
      }
    }
  }
}
