import type { MetricName, MetricValues } from "../pareto/metric-catalog.js";
import { evaluateCandidate, judgeAgainst, type EvaluateContext, type EvaluatedCandidate } from "./evaluate-candidate.js";
import type { WorkflowPlan } from "./plan-types.js";
import type { RunLog } from "./run-log.js";
import { chooseStrategy, createSampler, type Observation, type SamplerStrategy } from "./search-sampler.js";

export interface SearchOutcome {
  strategy: SamplerStrategy;
  baseline: EvaluatedCandidate;
  evaluated: EvaluatedCandidate[];
  stoppedBecause: string;
}

/**
 * Progress is one log line per candidate: the passes and the benchmark below draw their own
 * progress bars, and a bar cannot nest inside another.
 *
 * Measure the baseline, then candidates in the sampler's order until the budget (candidate
 * count, then time) runs out, the space is exhausted, or — with stopWhenGoalsMet — one passes
 * every gate. The baseline counts toward the candidate budget.
 */
export async function runSearch(
  plan: WorkflowPlan,
  context: EvaluateContext,
  options: {
    log: RunLog;
    clockMs: () => number;
    afterBaseline?: (baseline: EvaluatedCandidate) => void;
    /** How one candidate is evaluated; tests of the search loop pass their own. */
    evaluate?: typeof evaluateCandidate;
    /** Measure the baseline's speed and memory again after the search (undefined when it cannot be). */
    remeasureBaseline?: (baseline: EvaluatedCandidate) => Promise<MetricValues | undefined>;
  },
): Promise<SearchOutcome> {
  const { search } = context.config;
  const evaluate = options.evaluate ?? evaluateCandidate;
  const strategy = chooseStrategy(search.strategy, plan.candidates.length, Math.max(1, search.maxCandidates - 1));
  const startedMs = options.clockMs();
  options.log.info(`search: ${strategy} over ${plan.candidates.length} candidates (budget ${search.maxCandidates} incl. the baseline${search.maxTimeSec ? `, ${search.maxTimeSec} s` : ""}, seed ${search.seed})`);
  options.log.info(`evaluating baseline ${plan.baseline.id}`);
  const baseline = await evaluate(plan.baseline, context, undefined);
  options.afterBaseline?.(baseline);
  const evaluated: EvaluatedCandidate[] = [baseline];
  const sampler = createSampler(
    strategy,
    plan.candidates.map((c) => ({ key: c.id, coordinates: c.coordinates })),
    { seed: search.seed },
  );
  const byId = new Map(plan.candidates.map((c) => [c.id, c]));
  const history: Observation[] = [];
  let stoppedBecause = "search space exhausted";
  if (search.stopWhenGoalsMet && baseline.verdict?.passed) stoppedBecause = "the baseline already meets every gate";
  else {
    for (;;) {
      if (evaluated.length >= search.maxCandidates) {
        stoppedBecause = `candidate budget reached (${search.maxCandidates})`;
        break;
      }
      if (search.maxTimeSec !== undefined && options.clockMs() - startedMs >= search.maxTimeSec * 1000) {
        stoppedBecause = `time budget reached (${search.maxTimeSec} s)`;
        break;
      }
      const point = sampler.propose(history);
      if (!point) break;
      const planned = byId.get(point.key);
      if (!planned) break;
      options.log.info(`evaluating ${planned.id} (${evaluated.length + 1}/${Math.min(search.maxCandidates, plan.candidates.length + 1)})`);
      const result = await evaluate(planned, context, baseline);
      evaluated.push(result);
      history.push({ key: point.key, loss: result.loss });
      if (search.stopWhenGoalsMet && result.verdict?.passed) {
        stoppedBecause = `${planned.id} meets every gate (stopWhenGoalsMet)`;
        break;
      }
    }
  }
  options.log.info(`search stopped: ${stoppedBecause}`);
  if (options.remeasureBaseline && evaluated.length > 1 && baseline.measured) {
    const again = await options.remeasureBaseline(baseline);
    if (again) rebaseline(baseline, again, evaluated, context, options.log);
  }
  return { strategy, baseline, evaluated, stoppedBecause };
}

const remeasuredMetrics: readonly MetricName[] = [
  "loadMs", "firstInferenceMs", "minLatencyMs", "meanLatencyMs", "p50LatencyMs", "p90LatencyMs", "p95LatencyMs", "p99LatencyMs", "maxLatencyMs",
  "throughputPerSec", "peakRssBytes", "rssIncreaseBytes", "promptTokensPerSec",
];

/**
 * Every ratio leans on the baseline, measured once at the start; load on the machine may have
 * changed since. Its second measurement (after the search) is averaged with the first, and every
 * candidate's ratios and verdicts are recomputed, so drift during the run weighs on both sides.
 */
export function rebaseline(baseline: EvaluatedCandidate, again: MetricValues, evaluated: readonly EvaluatedCandidate[], context: Pick<EvaluateContext, "gates" | "objectives">, log: RunLog): void {
  const before = baseline.measured as MetricValues;
  const merged: MetricValues = { ...before };
  for (const key of remeasuredMetrics) {
    const first = before[key];
    const second = again[key];
    if (first !== undefined && second !== undefined) merged[key] = (first + second) / 2;
  }
  const note = `baseline measured before and after the search: p50 ${before.p50LatencyMs?.toFixed(3) ?? "—"} ms then ${again.p50LatencyMs?.toFixed(3) ?? "—"} ms; ratios use the mean`;
  log.info(note);
  baseline.measured = merged;
  if (baseline.report.measurement) baseline.report.measurement.notes.push(note);
  for (const entry of evaluated) {
    if (!entry.measured || entry.report.status !== "measured") continue;
    const measured = entry === baseline ? merged : entry.measured;
    const judged = judgeAgainst(entry.planned, measured, merged, context);
    entry.report.metrics = judged.metrics as Record<string, number>;
    entry.verdict = judged.verdict;
    entry.loss = judged.loss;
  }
}
