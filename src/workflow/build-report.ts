import { describeGate } from "../gates/gate.js";
import { findClosestCandidate } from "../gates/evaluate-gates.js";
import { explainVerdict } from "../gates/explain-verdict.js";
import { describeGateResult } from "../gates/describe-gate-result.js";
import { formatMetricValue } from "../pareto/format-metric.js";
import { computeFrontier } from "../pareto/frontier.js";
import type { MetricValues } from "../pareto/metric-catalog.js";
import { recommendCandidate } from "../pareto/recommend.js";
import { reportSchemaVersion, type Report } from "../reports/report.js";
import type { Environment } from "./assess-environment.js";
import type { InspectedModel } from "./model-facts.js";
import type { WorkflowPlan } from "./plan-types.js";
import type { ResolvedGoals } from "./resolve-gates.js";
import type { RunLog } from "./run-log.js";
import type { SearchOutcome } from "./run-search.js";
import { diagnoseReport } from "./diagnose/diagnose-report.js";
import { formatBaselineMovement, isUnsteady, poolBaselineBlocks, type PooledBaselineBlocks } from "./baseline-blocks.js";
import { rankingMemory } from "./compare-memory.js";
import { suggestAlternatives } from "./suggest-alternatives.js";
import { suggestOptimizeCommand } from "./suggest-command.js";
import type { WorkflowConfig } from "./workflow-config.js";
import { summarizeMachine } from "../hardware/machine-summary.js";
import type { TargetProfile } from "../hardware/target-profile.js";

export interface ReportInputs {
  config: WorkflowConfig;
  model: InspectedModel;
  environment: Environment;
  plan: WorkflowPlan;
  goals: ResolvedGoals;
  search: SearchOutcome;
  cache: { enabled: boolean; dir: string };
  log: RunLog;
  outputs: Report["outputs"];
  evaluation?: Report["evaluation"];
  createdAt: string;
  durationMs: number;
  toolVersion: string;
  /** Every shipped target profile, for the "other target" alternative. */
  targets: readonly TargetProfile[];
}

export interface Verdicts {
  recommendedId: string | undefined;
  recommendation: Report["recommendation"];
  frontier: Report["frontier"];
  passingIds: string[];
  closest: Report["gates"]["closest"];
}

/** `blocks`: the reference's blocks pooled over every measuring window of the run. */
function ratioLine(candidate: Report["candidates"][number], blocks: PooledBaselineBlocks | undefined): string {
  const metrics = candidate.metrics as MetricValues;
  const parts = [
    metrics.speedup === undefined
      ? undefined
      : `${metrics.speedup.toFixed(2)}× the baseline's speed${metrics.passSpeedup === undefined ? "" : ` (the pass alone ${metrics.passSpeedup.toFixed(2)}× against the input model at the same runtime settings; the rest is the settings)`}${isUnsteady(blocks) ? ` — the baseline ${formatBaselineMovement(blocks)}, so this figure can differ by about that much in another run` : ""}`,
    metrics.memoryReduction === undefined ? undefined : `${(metrics.memoryReduction * 100).toFixed(0)}% less memory`,
    metrics.sizeReduction === undefined ? undefined : `${(metrics.sizeReduction * 100).toFixed(0)}% smaller`,
    metrics.accuracyRetention === undefined ? undefined : `accuracy retention ${formatMetricValue("accuracyRetention", metrics.accuracyRetention)}`,
    metrics.klDivergence === undefined ? undefined : `KL divergence ${formatMetricValue("klDivergence", metrics.klDivergence)}`,
  ];
  return parts.filter(Boolean).join(", ");
}

/** Frontier over every measured candidate; the recommendation is the best weighted score among those passing every gate. */
export function decide(search: SearchOutcome, goals: ResolvedGoals): Verdicts {
  const measured = search.evaluated.filter((e) => e.report.status === "measured");
  // Ranked on one memory basis across candidates, though each keeps its own figure in the report.
  const memory = rankingMemory(measured.map((e) => ({ id: e.planned.id, ...(e.report.sideBySide ? { memory: e.report.sideBySide.memory } : {}) })));
  const points = measured.map((e) => {
    const values = { ...(e.report.metrics as MetricValues) };
    if (memory) {
      const bytes = memory.bytesById.get(e.planned.id);
      if (bytes === undefined) delete values.modelMemoryBytes;
      else values.modelMemoryBytes = bytes;
    }
    return { id: e.planned.id, values };
  });
  const frontier = computeFrontier(points, goals.objectives);
  const passingIds = measured.filter((e) => e.verdict?.passed).map((e) => e.planned.id);
  const passing = points.filter((p) => passingIds.includes(p.id));
  const picked = recommendCandidate(passing, goals.objectives);
  const recommendedId = picked.recommendedId;
  const weights = goals.objectives.map((o) => `${o.metric} ×${o.weight ?? 1}`).join(", ");
  const reasons: string[] = [];
  let closest: Verdicts["closest"];
  if (recommendedId) {
    const chosen = measured.find((e) => e.planned.id === recommendedId);
    const score = picked.ranked[0]?.score;
    reasons.push(`passes all ${chosen?.verdict?.results.length ?? 0} gates and constraints`);
    reasons.push(`best weighted score${score === undefined ? "" : ` (${score.toFixed(3)})`} among ${passing.length} passing candidate${passing.length === 1 ? "" : "s"} on their Pareto frontier (weights: ${weights})`);
    if (chosen) reasons.push(`against the baseline: ${ratioLine(chosen.report, poolBaselineBlocks(measured.map((e) => e.report.sideBySide?.baselineBlocks)))}`);
    if (!frontier.frontierIds.includes(recommendedId)) reasons.push("note: other candidates dominate it, but they fail a gate");
    if (memory) reasons.push(`memory ranked on ${memory.basis}`);
  } else {
    const verdicts = measured.flatMap((e) => (e.verdict ? [e.verdict] : []));
    closest = findClosestCandidate(verdicts);
    reasons.push(measured.length === 0 ? "no candidate could be measured" : `none of the ${measured.length} measured candidates passes every gate`);
    if (closest) reasons.push(`closest: ${closest.candidateId}, which missed ${closest.missed.map((m) => describeGateResult(m)).join("; ")}`);
  }
  return {
    recommendedId,
    recommendation: {
      candidateId: recommendedId ?? null,
      ...(picked.ranked[0] ? { score: picked.ranked[0].score } : {}),
      reasons,
      ranked: picked.ranked.map((r) => ({ id: r.id, score: r.score })),
    },
    frontier: { ids: frontier.frontierIds, dominatedBy: frontier.dominatedBy },
    passingIds,
    closest,
  };
}

/** Why nothing passed and the nearest passing alternative with its command; diagnose findings; machine load. */
export function whatNext(report: Report, config: WorkflowConfig, goals: ResolvedGoals, search: SearchOutcome, environment: Environment, targets: readonly TargetProfile[], plan: Pick<WorkflowPlan, "defaultThreads">): NonNullable<Report["whatNext"]> {
  const findings = diagnoseReport(report, report.outputs.reportJson).findings.map((f) => ({ rule: f.rule, severity: f.severity, subject: f.subject, observation: f.observation, actions: f.actions }));
  const load = environment.local.load;
  const busy = load?.oversubscribed
    ? `the machine was busy when the run started (${load.busyCores?.toFixed(1) ?? "?"} of ${load.cores} cores in use by other work, load average ${load.loadAverage1m?.toFixed(2) ?? "?"}): absolute latencies are slower and noisier than on a quiet machine; speed-ups are measured side by side in alternating blocks, so they remain comparable`
    : undefined;
  // The speed-up gate's reference ran with fewer threads than the runtime's default: say so next to the load.
  const reduced = plan.defaultThreads?.reducedToFreeCores ? `input model's default settings: ${plan.defaultThreads.why}` : undefined;
  const oversubscribed = [busy, reduced].filter(Boolean).join("; ") || undefined;
  const base = { findings, ...(oversubscribed ? { oversubscribed } : {}) };
  if (report.verdict === "passed") return { unreachable: [], ...base };
  const baselineMemory = search.baseline.report.sideBySide?.memory;
  // The runtime's fixed cost only caps the reduction when memory is measured as RSS (not for a runtime's own allocation report).
  const share = !baselineMemory?.parts && baselineMemory?.referencePeakRssBytes !== undefined && baselineMemory.peakRssBytes > 0 ? baselineMemory.referencePeakRssBytes / baselineMemory.peakRssBytes : undefined;
  const measured = search.evaluated.filter((e) => e.report.status === "measured" && e.verdict);
  const explained = explainVerdict(goals.gates, measured.map((e) => e.verdict as NonNullable<typeof e.verdict>), {
    ...(share === undefined ? {} : { runtimeFixedMemoryShare: share }),
    memoryBasis: baselineMemory?.modelMemoryBytes === undefined ? "whole-process peak RSS (no reference process)" : `model-attributable memory (${baselineMemory.modelMemoryIncludes ?? "peak RSS minus a reference process with the same runtime and settings"})`,
  });
  const budget = environment.memoryBudgetOverrideBytes === undefined ? {} : { memoryBudgetBytes: environment.memoryBudgetOverrideBytes };
  const alternatives = suggestAlternatives({
    config,
    gates: goals.gates,
    verdicts: measured.map((e) => e.verdict as NonNullable<typeof e.verdict>),
    metrics: new Map(measured.map((e) => [e.planned.id, e.report.metrics])),
    ...(explained.alternative ? { relaxed: explained.alternative } : {}),
    skipped: report.plan.skipped,
    targets,
    ...(report.evaluation ? { evaluationSamples: report.evaluation.samples } : {}),
    ...budget,
  });
  return {
    unreachable: explained.unreachable,
    ...(explained.alternative ? { alternative: { candidateId: explained.alternative.candidateId, changes: explained.alternative.changes, command: suggestOptimizeCommand(config, explained.alternative.gates, budget) } } : {}),
    ...(alternatives.length > 0 ? { alternatives } : {}),
    ...base,
  };
}

export function buildReport(inputs: ReportInputs): Report {
  const { config, environment, goals, search } = inputs;
  const verdicts = decide(search, goals);
  const candidates = search.evaluated.map((e) => e.report);
  const passes = candidates.flatMap((c) => c.passes);
  const report = buildBareReport(inputs, verdicts, candidates, passes);
  return { ...report, whatNext: whatNext(report, config, goals, search, environment, inputs.targets, inputs.plan) };
}

/** Distinct pass outputs taken from the cache and produced in this run: steps that share a cache key share one output. */
export function countCachedOutputs(steps: Report["candidates"][number]["passes"]): { hits: number; misses: number } {
  const distinct = (hit: boolean) => new Set(steps.filter((step) => step.cacheHit === hit).map((step) => step.cacheKey)).size;
  return { hits: distinct(true), misses: distinct(false) };
}

function buildBareReport(inputs: ReportInputs, verdicts: Verdicts, candidates: Report["candidates"], passes: Report["candidates"][number]["passes"]): Report {
  const { config, model, environment, plan, goals, search } = inputs;
  const { hardware } = environment;
  return {
    schemaVersion: reportSchemaVersion,
    kind: "edgeforge.optimize",
    createdAt: inputs.createdAt,
    durationMs: inputs.durationMs,
    tool: { name: "edgeforge", version: inputs.toolVersion },
    input: {
      path: model.artifact.path,
      format: model.artifact.format,
      sha256: model.artifact.sha256,
      sizeBytes: model.artifact.sizeBytes,
      architecture: model.facts.architecture,
      parameterCount: model.facts.parameterCount,
      ...(Object.keys(inputs.config.measurement.shapes).length > 0 ? { shapes: inputs.config.measurement.shapes } : {}),
    },
    target: {
      name: environment.target.name,
      description: environment.target.description,
      memoryBudgetBytes: environment.target.memoryBudgetBytes,
      details: { origin: environment.target.origin, cpu: environment.target.cpu, accelerators: environment.target.accelerators, fit: model.facts.fit },
    },
    plan: {
      frameworks: plan.frameworks.map((f) => ({ name: f.framework, usable: f.usable, reasons: f.usable ? f.reasons : [...f.reasons, f.unusableReason ?? "not usable"] })),
      reasons: plan.reasons,
      searchSpaceSize: plan.candidates.length + 1,
      candidates: [plan.baseline, ...plan.candidates].map((c) => ({ id: c.id, label: c.label, passes: c.chain.map((s) => ({ passId: s.passId, options: s.options })), runtime: { ...c.runtime }, reasons: c.reasons })),
      skipped: plan.skipped,
    },
    search: {
      strategy: search.strategy,
      seed: config.search.seed,
      maxCandidates: config.search.maxCandidates,
      ...(config.search.maxTimeSec === undefined ? {} : { maxTimeSec: config.search.maxTimeSec }),
      stopWhenGoalsMet: config.search.stopWhenGoalsMet,
      evaluated: search.evaluated.length,
      stoppedBecause: search.stoppedBecause,
    },
    ...(inputs.evaluation ? { evaluation: inputs.evaluation } : {}),
    machine: summarizeMachine(hardware),
    baselineId: search.baseline.planned.id,
    candidates,
    objectives: goals.objectives.map((o) => ({ metric: o.metric, direction: o.direction, weight: o.weight ?? 1 })),
    constraints: goals.constraints.map((c) => ({ ...c })),
    frontier: verdicts.frontier,
    recommendation: verdicts.recommendation,
    gates: {
      source: inputs.goals.gatesSource,
      definitions: goals.gates.map((g) => ({ name: g.name, metric: g.metric, goal: g.goal, value: g.value, ...(g.op ? { op: g.op } : {}), priority: g.priority, requirement: describeGate(g) })),
      verdicts: search.evaluated.flatMap((e) => (e.verdict ? [e.verdict] : [])),
      passingIds: verdicts.passingIds,
      ...(verdicts.closest ? { closest: verdicts.closest } : {}),
    },
    verdict: verdicts.recommendedId ? "passed" : "no-candidate-passed",
    cache: { enabled: inputs.cache.enabled, dir: inputs.cache.dir, ...countCachedOutputs(passes) },
    log: inputs.log.entries.map((e) => ({ ...e })),
    outputs: inputs.outputs,
  };
}
