import { evaluateCandidate, type EvaluateContext, type EvaluatedCandidate } from "./evaluate-candidate.js";
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
  return { strategy, baseline, evaluated, stoppedBecause };
}
