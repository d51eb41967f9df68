import { assertSatisfiable, type Constraint } from "../pareto/constraint.js";
import type { MetricValues } from "../pareto/metric-catalog.js";
import { describeGate, resolveGateBound, type Gate } from "./gate.js";

/**
 * Reject gates that no candidate could pass together (`x <= 10` with `x >= 20`). Without a
 * baseline, gates are compared within families whose bounds move together with any positive
 * baseline (thresholds; absolute changes; percent changes); with one, every pair is compared.
 */
export function assertGatesConsistent(gates: readonly Gate[], baseline: MetricValues | undefined, where: string): void {
  if (baseline) {
    assertSatisfiable(toConstraints(gates, (gate) => baseline[gate.metric]), where);
    return;
  }
  const family = (gate: Gate): string => (gate.goal === "threshold" ? "threshold" : gate.goal.startsWith("percent-") ? "percent" : "absolute");
  for (const name of ["threshold", "absolute", "percent"]) {
    const members = gates.filter((gate) => family(gate) === name);
    // Any fixed positive baseline gives the same verdict within a family: 0 for absolute changes, 1 for percent ones.
    assertSatisfiable(toConstraints(members, () => (name === "percent" ? 1 : 0)), where);
  }
}

function toConstraints(gates: readonly Gate[], baselineOf: (gate: Gate) => number | undefined): Constraint[] {
  const constraints: Constraint[] = [];
  for (const gate of gates) {
    const resolved = resolveGateBound(gate, baselineOf(gate));
    if (resolved) constraints.push({ metric: gate.metric, op: resolved.op, value: resolved.bound, text: `${gate.name}: ${describeGate(gate)}` });
  }
  return constraints;
}
