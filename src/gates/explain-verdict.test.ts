import { describe, expect, it } from "vitest";
import { judgeCandidate } from "./evaluate-gates.js";
import { explainVerdict } from "./explain-verdict.js";
import type { Gate } from "./gate.js";

const gates: Gate[] = [
  { name: "accuracy-retention", metric: "accuracyRetention", goal: "threshold", op: ">=", value: 0.95, priority: 1 },
  { name: "speed-up", metric: "speedup", goal: "threshold", op: ">=", value: 2, priority: 2 },
  { name: "memory-reduction", metric: "memoryReduction", goal: "threshold", op: ">=", value: 0.5, priority: 3 },
];

describe("gates on intervals and the verdict explanation", () => {
  it("passes a ratio gate only when the whole interval clears it; a straddling interval is inconclusive", () => {
    const base = { accuracyRetention: 1, memoryReduction: 0.6 };
    const clear = judgeCandidate("a", gates, { ...base, speedup: 2.3 }, {}, { speedup: { low: 2.1, high: 2.5, level: 0.95 } });
    const straddle = judgeCandidate("b", gates, { ...base, speedup: 2.3 }, {}, { speedup: { low: 1.7, high: 2.6, level: 0.95 } });
    expect(clear.passed).toBe(true);
    expect(straddle.passed).toBe(false);
    const result = straddle.results.find((r) => r.gate === "speed-up");
    expect(result).toMatchObject({ outcome: "inconclusive", interval: { low: 1.7, high: 2.6 } });
    expect(result?.reason).toMatch(/straddles 2/);
  });

  it("names each unreachable gate with the best value and why, and relaxes only the missed gates of the closest candidate", () => {
    const verdicts = [
      judgeCandidate("fp16", gates, { accuracyRetention: 1, speedup: 0.97, memoryReduction: 0.02 }, {}, { speedup: { low: 0.9, high: 1.05, level: 0.95 } }),
      judgeCandidate("int8", gates, { accuracyRetention: 0.99, speedup: 1.32, memoryReduction: 0.31 }, {}, { speedup: { low: 1.21, high: 1.4, level: 0.95 } }),
    ];
    const { unreachable, alternative } = explainVerdict(gates, verdicts, { runtimeFixedMemoryShare: 0.91, memoryBasis: "model-attributable memory" });
    expect(unreachable.map((u) => u.gate)).toEqual(["speed-up", "memory-reduction"]);
    expect(unreachable[0]).toMatchObject({ bestCandidateId: "int8", bestMeasured: 1.32 });
    expect(unreachable[0]?.why).toContain("1.21–1.4");
    expect(unreachable[1]?.why).toContain("runtime's fixed memory is 91%");
    expect(alternative?.candidateId).toBe("int8");
    // Relaxed to the interval's low end (speed-up) and the measured value (memory), rounded toward passing.
    expect(alternative?.gates.map((g) => [g.name, g.value])).toEqual([["accuracy-retention", 0.95], ["speed-up", 1.21], ["memory-reduction", 0.31]]);
    const again = judgeCandidate("int8", alternative?.gates ?? [], { accuracyRetention: 0.99, speedup: 1.32, memoryReduction: 0.31 }, {}, { speedup: { low: 1.21, high: 1.4, level: 0.95 } });
    expect(again.passed).toBe(true);
  });

  it("says plainly when the nearest alternative is not faster than the input model, and never relaxes a hard constraint", () => {
    const slow = [judgeCandidate("fp16", gates, { accuracyRetention: 1, speedup: 0.97, memoryReduction: 0.6 }, {}, { speedup: { low: 0.9, high: 1.05, level: 0.95 } })];
    expect(explainVerdict(gates, slow).alternative?.changes[0]).toMatch(/keeping the input model is the honest choice/);
    const constraint: Gate = { name: "constraint: sizeBytes <= 1", metric: "sizeBytes", goal: "threshold", op: "<=", value: 1, priority: 0 };
    const broken = [judgeCandidate("x", [constraint], { sizeBytes: 5 }, {})];
    expect(explainVerdict([constraint], broken).alternative).toBeUndefined();
  });
});
