import { describe, expect, it } from "vitest";
import { silentLogger } from "../core/logger.js";
import type { EvaluateContext, EvaluatedCandidate } from "./evaluate-candidate.js";
import { resolveWorkflowConfig } from "./load-workflow-config.js";
import type { PlannedCandidate, WorkflowPlan } from "./plan-types.js";
import { RunLog } from "./run-log.js";
import { runSearch } from "./run-search.js";

function candidate(id: string, isBaseline = false): PlannedCandidate {
  return { id, label: id, chain: [], runtime: { runtime: "ort" }, isBaseline, reasons: [], coordinates: { chain: id }, measurable: true };
}

const plan = { baseline: candidate("base", true), candidates: ["a", "b", "c", "d", "e"].map((id) => candidate(id)) } as unknown as WorkflowPlan;

/** The search loop's control flow (budgets, stopping) with candidates judged by a table instead of measured. */
function run(search: Record<string, unknown>, passing: readonly string[], costMs = 0) {
  let now = 0;
  const evaluatedIds: string[] = [];
  const evaluate = async (planned: PlannedCandidate): Promise<EvaluatedCandidate> => {
    evaluatedIds.push(planned.id);
    now += costMs;
    const passed = passing.includes(planned.id);
    return { planned, report: { id: planned.id } as EvaluatedCandidate["report"], verdict: { candidateId: planned.id, passed, results: [] }, loss: passed ? -1 : 1 };
  };
  const config = resolveWorkflowConfig({ schemaVersion: 1, model: "m.onnx", output: "o", search: { strategy: "exhaustive", ...search } }, "test");
  const context = { config } as EvaluateContext;
  return runSearch(plan, context, { log: new RunLog(silentLogger, () => now), clockMs: () => now, evaluate }).then((outcome) => ({ outcome, evaluatedIds }));
}

describe("runSearch", () => {
  it("measures the baseline first and counts it toward the candidate budget", async () => {
    const { outcome, evaluatedIds } = await run({ maxCandidates: 3 }, []);
    expect(evaluatedIds).toEqual(["base", "a", "b"]);
    expect(outcome.stoppedBecause).toBe("candidate budget reached (3)");
    expect(outcome.strategy).toBe("exhaustive");
  });

  it("stops at the first candidate that meets every gate with stopWhenGoalsMet", async () => {
    const { outcome, evaluatedIds } = await run({ maxCandidates: 10, stopWhenGoalsMet: true }, ["c"]);
    expect(evaluatedIds).toEqual(["base", "a", "b", "c"]);
    expect(outcome.stoppedBecause).toBe("c meets every gate (stopWhenGoalsMet)");
  });

  it("starts no candidate once the time budget is spent", async () => {
    const { outcome, evaluatedIds } = await run({ maxCandidates: 10, maxTimeSec: 25 }, [], 10_000);
    expect(evaluatedIds).toEqual(["base", "a", "b"]);
    expect(outcome.stoppedBecause).toBe("time budget reached (25 s)");
  });

  it("ends when the space is exhausted", async () => {
    const { outcome, evaluatedIds } = await run({ maxCandidates: 50 }, []);
    expect(evaluatedIds).toHaveLength(6);
    expect(outcome.stoppedBecause).toBe("search space exhausted");
  });
});
