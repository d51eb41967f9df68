import { assertGatesConsistent } from "../gates/check-gates.js";
import { defaultGates } from "../gates/default-gates.js";
import type { Gate } from "../gates/gate.js";
import { readGatesFile, resolveGateEntries } from "../gates/gates-file.js";
import { assertSatisfiable, parseConstraint, type Constraint } from "../pareto/constraint.js";
import { defaultObjectives, parseObjective, type Objective } from "../pareto/objective.js";
import type { TargetProfile } from "../hardware/target-profile.js";
import { formatBytes } from "../core/units.js";
import type { WorkflowConfig } from "./workflow-config.js";

export interface ResolvedGoals {
  /** Quality gates, then one threshold gate per hard constraint (priority 0: a candidate that breaks one is never acceptable). */
  gates: Gate[];
  gatesSource: string;
  constraints: Constraint[];
  objectives: Objective[];
}

/**
 * Gates (file, inline list, or the seed's defaults), hard constraints (the config's plus, given a
 * target, its memory budget) and objectives. Without a target it only validates, so a bad gates
 * file fails before anything slow runs.
 */
export async function resolveGoals(config: WorkflowConfig, target: TargetProfile | undefined, signal?: AbortSignal): Promise<ResolvedGoals> {
  const gates: Gate[] = [];
  const sources: string[] = [];
  if (config.gates.file) {
    gates.push(...(await readGatesFile(config.gates.file, signal)));
    sources.push(config.gates.file);
  }
  if (config.gates.list && config.gates.list.length > 0) {
    gates.push(...resolveGateEntries(config.gates.list, "gates given on the command line or in the workflow config"));
    sources.push("inline gates");
  }
  if (gates.length === 0 && config.gates.useDefaults) {
    gates.push(...defaultGates);
    sources.push("defaults: accuracy retention ≥ 95%, speed-up ≥ 2×, memory reduction ≥ 50%");
  }
  const constraints = config.constraints.map((text) => parseConstraint(text, "the constraints"));
  // The plan keeps only what is estimated to fit; the same estimate keeps the input model (and
  // anything else too big) from being recommended. Measured limits are the user's constraints.
  const budget: Constraint[] = target
    ? [
        {
          metric: "estimatedRunBytes",
          op: "<=",
          value: target.memoryBudgetBytes,
          text: `estimatedRunBytes <= ${formatBytes(target.memoryBudgetBytes)} (${target.name} memory budget, estimate)`,
        },
      ]
    : [];
  const allConstraints = [...constraints, ...budget];
  assertSatisfiable(allConstraints, "the constraints");
  const constraintGates: Gate[] = allConstraints.map((c) => ({ name: `constraint: ${c.text}`, metric: c.metric, goal: "threshold", op: c.op, value: c.value, priority: 0 }));
  const all = [...constraintGates, ...gates];
  assertGatesConsistent(all, undefined, "the gates and constraints");
  const objectives = config.objectives ? config.objectives.map((text) => parseObjective(text, "the objectives")) : defaultObjectives.map((o) => ({ ...o }));
  return { gates: all, gatesSource: sources.join(" + ") || "constraints only", constraints: allConstraints, objectives };
}
