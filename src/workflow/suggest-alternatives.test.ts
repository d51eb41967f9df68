import { describe, expect, it } from "vitest";
import { judgeCandidate } from "../gates/evaluate-gates.js";
import { explainVerdict } from "../gates/explain-verdict.js";
import type { Gate } from "../gates/gate.js";
import type { TargetProfile } from "../hardware/target-profile.js";
import { resolveWorkflowConfig } from "./load-workflow-config.js";
import { suggestAlternatives } from "./suggest-alternatives.js";

const gates: Gate[] = [
  { name: "memory budget", metric: "estimatedRunBytes", goal: "threshold", op: "<=", value: 4e6, priority: 0 },
  { name: "accuracy-retention", metric: "accuracyRetention", goal: "threshold", op: ">=", value: 0.95, priority: 1 },
  { name: "speed-up", metric: "speedup", goal: "threshold", op: ">=", value: 1.2, priority: 2 },
];
const targets = [
  { name: "tiny", memoryBudgetBytes: 2e6 },
  { name: "medium", memoryBudgetBytes: 8e6 },
  { name: "large", memoryBudgetBytes: 64e6 },
] as unknown as TargetProfile[];
const config = resolveWorkflowConfig({ schemaVersion: 1, model: "m.onnx", output: "out", target: "tiny", data: { evaluation: "eval", limit: 50 } }, "test");

describe("suggestAlternatives", () => {
  it("offers a relaxed gate, the smallest other target whose budget fits, and more data, each with its exact command", () => {
    const metrics = { a: { estimatedRunBytes: 6e6, accuracyRetention: 0.99, speedup: 1.5 }, b: { estimatedRunBytes: 3e6, accuracyRetention: 0.93, speedup: 1.3 } };
    const verdicts = Object.entries(metrics).map(([id, m]) => judgeCandidate(id, gates, m, {}));
    const skipped = [{ label: "onnx.quantize.int8-static", reason: "static int8 needs calibration data (--calibration)" }];
    const explained = explainVerdict(gates, verdicts);
    const alternatives = suggestAlternatives({ config, gates, verdicts, metrics: new Map(Object.entries(metrics)), skipped, targets, evaluationSamples: 50, ...(explained.alternative ? { relaxed: explained.alternative } : {}) });
    expect(alternatives.map((a) => a.kind)).toEqual(["relaxed gate", "other target", "more data", "more data"]);
    const [relaxed, target, calibration, samples] = alternatives;
    expect(relaxed?.candidateId).toBe("b");
    expect(relaxed?.command).toContain('--gate "accuracyRetention >= 0.93"');
    // a fails only the 4 MB budget (6 MB estimated): "medium" (8 MB) is the smallest shipped target that fits.
    expect(target).toMatchObject({ candidateId: "a", command: expect.stringContaining("--target medium") });
    expect(target?.command).toContain("-o out-medium");
    expect(calibration?.why).toContain("onnx.quantize.int8-static");
    expect(calibration?.command).toContain("--calibration CALIBRATION_DIR");
    // b misses 95 % by 2 points, within the ≈ 14-point sampling error of 50 samples: 4× the samples.
    expect(samples?.command).toContain("--eval-limit 200");
  });

  it("gives passes that lack the same data one command with all of it (auto needs calibration and evaluation data)", () => {
    const bare = resolveWorkflowConfig({ schemaVersion: 1, model: "m.onnx", output: "out", target: "tiny" }, "test");
    const metrics = { a: { estimatedRunBytes: 1e6, accuracyRetention: 1, speedup: 1.1 } };
    const verdicts = [judgeCandidate("a", gates, metrics.a, {})];
    const skipped = [
      { label: "onnx.quantize.int8-static", reason: "static int8 needs calibration data (--calibration)" },
      { label: "onnx.quantize.auto", reason: "accuracy-aware quantization needs calibration data (--calibration) and evaluation data (--eval)" },
    ];
    const moreData = suggestAlternatives({ config: bare, gates, verdicts, metrics: new Map(Object.entries(metrics)), skipped, targets }).filter((a) => a.kind === "more data");
    expect(moreData).toHaveLength(2);
    const [staticOnly, auto] = moreData;
    expect(staticOnly?.why).toMatch(/^onnx\.quantize\.int8-static was left out/);
    expect(staticOnly?.command).toContain("--calibration CALIBRATION_DIR");
    expect(staticOnly?.command).not.toContain("--eval");
    expect(auto?.why).toMatch(/^onnx\.quantize\.auto was left out.*CALIBRATION_DIR.*and labelled evaluation data \(replace EVAL_DATA\)/);
    expect(auto?.command).toContain("--calibration CALIBRATION_DIR");
    expect(auto?.command).toContain("--eval EVAL_DATA");
  });

  it("offers nothing that does not apply", () => {
    const metrics = { a: { estimatedRunBytes: 100e6, accuracyRetention: 0.5, speedup: 1.5 } };
    const verdicts = [judgeCandidate("a", gates, metrics.a, {})];
    expect(suggestAlternatives({ config, gates, verdicts, metrics: new Map(Object.entries(metrics)), skipped: [], targets, evaluationSamples: 10_000 })).toEqual([]);
  });
});
