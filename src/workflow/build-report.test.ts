import { describe, expect, it } from "vitest";
import { defaultObjectives } from "../pareto/objective.js";
import { countCachedOutputs, decide } from "./build-report.js";
import type { EvaluatedCandidate } from "./evaluate-candidate.js";
import type { ResolvedGoals } from "./resolve-gates.js";
import type { SearchOutcome } from "./run-search.js";

const MiB = 2 ** 20;
const llamaParts = [{ name: "weights", bytes: 9 * MiB, includes: "tensors" }];

/** Only the fields decide() reads: id, status, metrics, side-by-side memory and the gate verdict. */
function candidate(id: string, speedup: number, memory: { peakRssBytes: number; referencePeakRssBytes: number; modelMemoryBytes: number; parts?: typeof llamaParts }): EvaluatedCandidate {
  return {
    planned: { id },
    report: { id, status: "measured", metrics: { speedup, modelMemoryBytes: memory.modelMemoryBytes, sizeBytes: 10 * MiB, accuracyRetention: 1 }, sideBySide: { memory } },
    verdict: { candidateId: id, passed: true, results: [] },
    loss: 0,
  } as unknown as EvaluatedCandidate;
}

describe("decide", () => {
  it("ranks a GGUF candidate (llama.cpp's allocation) and an MLX candidate (RSS only) on one memory basis", () => {
    // By its own figure q4 (9 MiB allocated) looks lighter than mlx (12 MiB of RSS); over their references q4 takes 25 MiB, mlx 12 MiB.
    const q4 = candidate("q4", 1.5, { peakRssBytes: 145 * MiB, referencePeakRssBytes: 120 * MiB, modelMemoryBytes: 9 * MiB, parts: llamaParts });
    const mlx = candidate("mlx", 1.5, { peakRssBytes: 140 * MiB, referencePeakRssBytes: 128 * MiB, modelMemoryBytes: 12 * MiB });
    const search = { baseline: q4, evaluated: [q4, mlx] } as unknown as SearchOutcome;
    const goals = { gates: [], constraints: [], objectives: [...defaultObjectives] } as unknown as ResolvedGoals;
    const verdicts = decide(search, goals);
    expect(verdicts.recommendedId).toBe("mlx");
    expect(verdicts.frontier.dominatedBy.q4).toEqual(["mlx"]);
    expect(verdicts.recommendation.reasons.join("\n")).toMatch(/memory ranked on peak RSS minus a reference process.*for every candidate/);
    // The report keeps each candidate's own figure.
    expect(q4.report.metrics.modelMemoryBytes).toBe(9 * MiB);
  });

  it("splits a recommendation's speed-up into the pass's own effect and the settings'", () => {
    const memory = { peakRssBytes: 140 * MiB, referencePeakRssBytes: 128 * MiB, modelMemoryBytes: 6 * MiB };
    const q6 = candidate("q6_k-1t-b64", 33.1, memory);
    q6.report.metrics.passSpeedup = 1.06;
    const goals = { gates: [], constraints: [], objectives: [...defaultObjectives] } as unknown as ResolvedGoals;
    const verdicts = decide({ baseline: q6, evaluated: [q6] } as unknown as SearchOutcome, goals);
    expect(verdicts.recommendation.reasons.join("\n")).toContain("33.10× the baseline's speed (the pass alone 1.06× against the input model at the same runtime settings; the rest is the settings)");
  });

  it("says when the baseline's median moved between the run's measuring windows, and not when it held", () => {
    const memory = { peakRssBytes: 140 * MiB, referencePeakRssBytes: 128 * MiB, modelMemoryBytes: 6 * MiB };
    const goals = { gates: [], constraints: [], objectives: [...defaultObjectives] } as unknown as ResolvedGoals;
    const reasonsWith = (windows: [number, number, number][]) => {
      const evaluated = windows.map(([min, median, max], i) => {
        const c = candidate(i === 0 ? "q6_k-1t-b64" : `other-${i}`, i === 0 ? 33.1 : 1.2, memory);
        Object.assign(c.report.sideBySide as object, { baselineBlocks: { metric: "generated tokens/s", min, median, max, blocks: 6 } });
        return c;
      });
      return decide({ baseline: evaluated[0], evaluated } as unknown as SearchOutcome, goals).recommendation.reasons.join("\n");
    };
    expect(reasonsWith([[73.6, 95, 105.4], [68.5, 78, 89]])).toContain(
      "33.10× the baseline's speed — the baseline moved 1.22× between the run's 2 measuring windows (window medians 78–95 generated tokens/s; single blocks 69–105), so this figure can differ by about that much in another run",
    );
    expect(reasonsWith([[60, 90, 150], [70, 85, 100]])).not.toContain("moved");
  });
});

describe("countCachedOutputs", () => {
  it("counts an output several candidates share once (the demo's int8-static served four runtime settings)", () => {
    const step = (cacheKey: string, cacheHit: boolean) => ({ passId: "p", passVersion: "1", options: {}, cacheKey, cacheHit, durationMs: 1, counts: {}, notes: [] });
    expect(countCachedOutputs([step("a", false), step("a", false), step("b", false), step("c", true), step("c", true)])).toEqual({ hits: 1, misses: 2 });
    expect(countCachedOutputs([])).toEqual({ hits: 0, misses: 0 });
  });
});
