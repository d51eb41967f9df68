import type { StressSection } from "./run-stress.js";

export interface LatencyBudgets {
  p95BudgetMs: number;
  p99BudgetMs: number;
  source: string;
}

/**
 * The monitoring latency budgets: p95 from the requirements, else 2× the stress sweep's p95 at the
 * expected concurrency; p99 is the stress check's budget (the requirements', or 3× the report's p99).
 * The two come from different measurements, so a measured p95 budget above the p99 budget is capped
 * at it: otherwise a p95 alert would fire only after the p99 one.
 */
export function latencyBudgets(requiredP95Ms: number | undefined, stressP95Ms: number, stress: Pick<StressSection, "expectedConcurrency" | "p99BudgetMs" | "p99BudgetSource">): LatencyBudgets {
  const p99 = { p99BudgetMs: stress.p99BudgetMs };
  if (requiredP95Ms !== undefined) return { p95BudgetMs: requiredP95Ms, ...p99, source: "requirements file" };
  const measuredMs = 2 * stressP95Ms;
  const capped = measuredMs > stress.p99BudgetMs;
  return {
    p95BudgetMs: capped ? stress.p99BudgetMs : measuredMs,
    ...p99,
    source: `p95: 2× the stress p95 at ${stress.expectedConcurrency} in flight${capped ? ` (${measuredMs.toFixed(2)} ms), capped at the p99 budget` : ""}; p99: ${stress.p99BudgetSource}`,
  };
}
