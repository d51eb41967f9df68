import { formatMetricValue } from "../pareto/format-metric.js";
import type { CandidateVerdict, GateResult } from "./evaluate-gates.js";
import { findClosestCandidate } from "./evaluate-gates.js";
import type { Gate } from "./gate.js";

/** A gate no candidate passed, with the best any candidate did and why it is out of reach. */
export interface UnreachableGate {
  gate: string;
  requirement: string;
  /** The candidate that came nearest on this gate alone. */
  bestCandidateId?: string;
  bestMeasured?: number;
  why: string;
}

/** The gates that would let the nearest candidate pass: each missed gate moved to what it achieved. */
export interface PassingAlternative {
  candidateId: string;
  gates: Gate[];
  /** What changed, in words: "speed-up: 2 → 1.04". */
  changes: string[];
}

/** Facts the explanations quote: e.g. the share of the input model's memory the runtime itself takes. */
export interface VerdictFacts {
  /** Reference process peak RSS / the input model's whole-process peak RSS. */
  runtimeFixedMemoryShare?: number;
  /** What the memory gate compared ("model-attributable memory", "whole-process peak RSS"). */
  memoryBasis?: string;
}

function bestOn(results: readonly GateResult[]): GateResult | undefined {
  let best: GateResult | undefined;
  for (const r of results) {
    if (r.relativeMargin === undefined) continue;
    if (!best || (best.relativeMargin as number) < r.relativeMargin) best = r;
  }
  return best;
}

function whyUnreachable(gate: Gate, best: GateResult | undefined, bestId: string | undefined, facts: VerdictFacts): string {
  if (!best || best.measured === undefined) return `${gate.metric} was not measured for any candidate${best?.reason ? ` (${best.reason})` : ""}`;
  const value = formatMetricValue(gate.metric, best.measured);
  const interval = best.interval ? ` (${Math.round(best.interval.level * 100)}% interval ${formatMetricValue(gate.metric, best.interval.low)}–${formatMetricValue(gate.metric, best.interval.high)})` : "";
  const needs = `${best.op ?? ""} ${formatMetricValue(gate.metric, best.threshold)}`.trim();
  let why = `the best candidate, ${bestId}, reached ${gate.metric} ${value}${interval}; the gate needs ${needs}`;
  if (best.outcome === "inconclusive") why += `: its interval straddles the bound, so more measurement or a quieter machine might decide it`;
  if (gate.metric === "speedup") why += "; speed-ups are measured side by side against the input model at its default settings, so no pass available for this model on this CPU gets there";
  if (gate.metric === "memoryReduction") {
    why += `; memory compared: ${facts.memoryBasis ?? "model-attributable memory"}`;
    if (facts.runtimeFixedMemoryShare !== undefined) why += ` (the runtime's fixed memory is ${Math.round(facts.runtimeFixedMemoryShare * 100)}% of the input model's whole-process peak, excluded here)`;
  }
  if (gate.metric === "accuracyRetention") why += "; every candidate that changes the weights loses more than the gate allows on this data";
  return why;
}

/** Round a relaxed bound toward "easier" to 3 significant digits, so the suggested gate passes. */
function relaxedBound(value: number, op: string): number {
  if (value === 0) return 0;
  const scale = 10 ** (Math.floor(Math.log10(Math.abs(value))) - 2);
  const rounded = op.startsWith(">") ? Math.floor(value / scale) * scale : Math.ceil(value / scale) * scale;
  return Number(rounded.toPrecision(3));
}

/**
 * Why nothing passed, gate by gate, and the nearest way to a passing verdict: the closest
 * candidate's missed gates moved to what it measured (the interval's far end for ratios judged on
 * an interval). Quality gates are never relaxed below what the user asked silently: the change list
 * says so, and the caller prints it with the command.
 */
export function explainVerdict(gates: readonly Gate[], verdicts: readonly CandidateVerdict[], facts: VerdictFacts = {}): { unreachable: UnreachableGate[]; alternative?: PassingAlternative } {
  const unreachable: UnreachableGate[] = [];
  for (const gate of gates) {
    const results = verdicts.flatMap((v) => v.results.filter((r) => r.gate === gate.name).map((r) => ({ id: v.candidateId, r })));
    if (results.length === 0 || results.some(({ r }) => r.passed)) continue;
    const best = bestOn(results.map(({ r }) => r));
    const bestId = results.find(({ r }) => r === best)?.id;
    unreachable.push({
      gate: gate.name,
      requirement: results[0]?.r.requirement ?? gate.name,
      ...(bestId === undefined ? {} : { bestCandidateId: bestId }),
      ...(best?.measured === undefined ? {} : { bestMeasured: best.measured }),
      why: whyUnreachable(gate, best, bestId, facts),
    });
  }
  const closest = findClosestCandidate(verdicts);
  if (!closest) return { unreachable };
  const changes: string[] = [];
  const relaxed: Gate[] = [];
  for (const gate of gates) {
    const missed = closest.missed.find((m) => m.gate === gate.name);
    if (!missed) {
      relaxed.push(gate);
      continue;
    }
    // Constraints (priority 0) and unmeasured gates cannot be relaxed into a pass.
    if (gate.priority === 0 || missed.measured === undefined || missed.op === undefined || missed.threshold === undefined) return { unreachable };
    const achieved = missed.interval ? (missed.op.startsWith(">") ? missed.interval.low : missed.interval.high) : missed.measured;
    const bound = relaxedBound(achieved, missed.op);
    relaxed.push({ name: gate.name, metric: gate.metric, goal: "threshold", op: missed.op, value: bound, priority: gate.priority });
    const slower = (gate.metric === "speedup" || gate.metric === "passSpeedup") && bound < 1;
    changes.push(
      `${gate.name}: ${missed.op} ${formatMetricValue(gate.metric, missed.threshold)} → ${missed.op} ${formatMetricValue(gate.metric, bound)}${slower ? " (no candidate is reliably faster than the input model here: keeping the input model is the honest choice)" : ""}`,
    );
  }
  return { unreachable, alternative: { candidateId: closest.candidateId, gates: relaxed, changes } };
}
