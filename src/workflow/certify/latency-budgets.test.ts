import { describe, expect, it } from "vitest";
import { latencyBudgets } from "./latency-budgets.js";

const stress = { expectedConcurrency: 2, p99BudgetMs: 0.63, p99BudgetSource: "3× the report's p99 (0.21 ms)" };

describe("latencyBudgets", () => {
  it("takes 2× the stress p95, capped at the p99 budget it would otherwise exceed (Silero VAD: 0.65 against 0.63 ms)", () => {
    expect(latencyBudgets(undefined, 0.1, stress)).toEqual({ p95BudgetMs: 0.2, p99BudgetMs: 0.63, source: "p95: 2× the stress p95 at 2 in flight; p99: 3× the report's p99 (0.21 ms)" });
    const capped = latencyBudgets(undefined, 0.3256, stress);
    expect(capped.p95BudgetMs).toBe(0.63);
    expect(capped.source).toBe("p95: 2× the stress p95 at 2 in flight (0.65 ms), capped at the p99 budget; p99: 3× the report's p99 (0.21 ms)");
  });

  it("keeps a p95 from the requirements as it is", () => {
    expect(latencyBudgets(5, 0.3, stress)).toEqual({ p95BudgetMs: 5, p99BudgetMs: 0.63, source: "requirements file" });
  });
});
