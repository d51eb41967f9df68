import type { CandidateVerdict } from "../gates/evaluate-gates.js";
import type { PassingAlternative } from "../gates/explain-verdict.js";
import type { Gate } from "../gates/gate.js";
import { formatMetricValue } from "../pareto/format-metric.js";
import type { TargetProfile } from "../hardware/target-profile.js";
import { suggestOptimizeCommand } from "./suggest-command.js";
import type { WorkflowConfig } from "./workflow-config.js";

/** One way to a passing verdict, with the exact command; placeholders in capitals are the user's own paths. */
export interface Alternative {
  kind: "relaxed gate" | "other target" | "more data";
  candidateId?: string;
  why: string;
  command: string;
}

export interface AlternativeInputs {
  config: WorkflowConfig;
  gates: readonly Gate[];
  verdicts: readonly CandidateVerdict[];
  /** Candidates' measured and estimated figures, by id. */
  metrics: ReadonlyMap<string, Readonly<Record<string, number>>>;
  relaxed?: PassingAlternative;
  /** Passes the plan left out, with the reason. */
  skipped: readonly { label: string; reason: string }[];
  /** Every shipped target profile. */
  targets: readonly TargetProfile[];
  /** Samples the accuracy was measured on. */
  evaluationSamples?: number;
  /** The run's --memory-budget override: repeated in the commands, but for another target's (whose point is that target's budget). */
  memoryBudgetBytes?: number;
}

const dataFlags = [
  { pattern: /\(--calibration\)/, flag: "calibration", placeholder: "CALIBRATION_DIR", what: "about 100 representative inputs" },
  { pattern: /\(--eval\)/, flag: "evaluation", placeholder: "EVAL_DATA", what: "labelled evaluation data" },
] as const;

/** A candidate that failed only the target's memory budget, and the smallest shipped target whose budget fits it. */
function otherTarget(inputs: AlternativeInputs): Alternative | undefined {
  const budget = inputs.gates.find((g) => g.metric === "estimatedRunBytes" && g.priority === 0);
  if (!budget) return undefined;
  const onlyBudget = inputs.verdicts
    .filter((v) => !v.passed && v.results.every((r) => r.passed || r.gate === budget.name))
    .map((v) => ({ id: v.candidateId, bytes: inputs.metrics.get(v.candidateId)?.estimatedRunBytes }))
    .filter((c): c is { id: string; bytes: number } => c.bytes !== undefined)
    .sort((a, b) => a.bytes - b.bytes)[0];
  if (!onlyBudget) return undefined;
  const target = [...inputs.targets].sort((a, b) => a.memoryBudgetBytes - b.memoryBudgetBytes).find((t) => t.memoryBudgetBytes >= onlyBudget.bytes && t.name !== inputs.config.target);
  if (!target) return undefined;
  return {
    kind: "other target",
    candidateId: onlyBudget.id,
    why: `${onlyBudget.id} passes every other gate but is estimated to need ${formatMetricValue("estimatedRunBytes", onlyBudget.bytes)}, over ${inputs.config.target}'s budget; ${target.name} allows ${formatMetricValue("estimatedRunBytes", target.memoryBudgetBytes)}`,
    command: suggestOptimizeCommand({ ...inputs.config, target: target.name }, inputs.gates, { outputSuffix: `-${target.name}` }),
  };
}

function budgetOf(inputs: AlternativeInputs): { memoryBudgetBytes?: number } {
  return inputs.memoryBudgetBytes === undefined ? {} : { memoryBudgetBytes: inputs.memoryBudgetBytes };
}

/** Passes left out for lack of data, and accuracy misses within the sampling error of a small evaluation set. */
function moreData(inputs: AlternativeInputs): Alternative[] {
  const found: Alternative[] = [];
  const { config } = inputs;
  // Passes that lack the same data share one command that gives all of it.
  const byNeeds = new Map<string, { needs: (typeof dataFlags)[number][]; passes: string[] }>();
  for (const skip of inputs.skipped) {
    const needs = dataFlags.filter((need) => need.pattern.test(skip.reason));
    if (needs.length === 0) continue;
    const key = needs.map((need) => need.flag).join("+");
    const group = byNeeds.get(key) ?? { needs, passes: [] };
    group.passes.push(skip.label);
    byNeeds.set(key, group);
  }
  for (const { needs, passes } of byNeeds.values()) {
    const data = { ...config.data, ...Object.fromEntries(needs.map((need) => [need.flag, need.placeholder])) };
    const what = needs.map((need) => `${need.what} (replace ${need.placeholder})`).join(" and ");
    found.push({
      kind: "more data",
      why: `${passes.join(", ")} ${passes.length === 1 ? "was" : "were"} left out for lack of data; with ${what} ${passes.length === 1 ? "it is" : "they are"} tried too`,
      command: suggestOptimizeCommand({ ...config, data }, inputs.gates, { outputSuffix: "-more-data", ...budgetOf(inputs) }),
    });
  }
  const n = inputs.evaluationSamples;
  const accuracyGates = new Set(inputs.gates.filter((g) => g.metric === "accuracyRetention" || g.metric === "accuracy").map((g) => g.name));
  // A binomial proportion measured on n samples is uncertain by about 1/√n (two standard errors at p = ½).
  const withinNoise = n !== undefined && n > 0 && inputs.verdicts.some((v) => v.results.some((r) => accuracyGates.has(r.gate) && !r.passed && r.margin !== undefined && Math.abs(r.margin) <= 1 / Math.sqrt(n)));
  if (withinNoise) {
    const limit = config.data.limit;
    found.push({
      kind: "more data",
      why: `the accuracy gate was missed by less than the sampling error of ${n} evaluation samples (≈ ${(100 / Math.sqrt(n)).toFixed(1)} points); ${limit ? `4× the samples` : "a larger evaluation set (replace LARGER_EVAL_DATA)"} decides it`,
      command: suggestOptimizeCommand(limit ? { ...config, data: { ...config.data, limit: limit * 4 } } : { ...config, data: { ...config.data, evaluation: "LARGER_EVAL_DATA" } }, inputs.gates, { outputSuffix: "-more-data", ...budgetOf(inputs) }),
    });
  }
  return found;
}

/**
 * The ways from a failing verdict to a passing one that apply to this run, each with the exact
 * command: the nearest candidate with its missed gates relaxed to what it measured; another shipped
 * target whose memory budget fits a candidate that failed only the budget; more data (passes left
 * out for lack of it, or an accuracy miss within the evaluation set's sampling error).
 */
export function suggestAlternatives(inputs: AlternativeInputs): Alternative[] {
  const relaxed: Alternative[] = inputs.relaxed
    ? [{ kind: "relaxed gate", candidateId: inputs.relaxed.candidateId, why: inputs.relaxed.changes.join("; "), command: suggestOptimizeCommand(inputs.config, inputs.relaxed.gates, budgetOf(inputs)) }]
    : [];
  const target = otherTarget(inputs);
  return [...relaxed, ...(target ? [target] : []), ...moreData(inputs)];
}
