import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reportSchema, type Report } from "../../src/reports/report.js";
import { realOnnxModels } from "../fixtures/onnx-test-models.js";
import { runVadSideBySide, speechLikeFrames, writeVadRecords } from "../fixtures/quantize-fixtures.js";
import { runCli, type CliResult } from "../fixtures/run-cli.js";
import { makeTempDir } from "../fixtures/temp-dir.js";

// Silero VAD keeps every weight in If branches (its LSTMs one If deeper): optimize must plan, quantize and
// measure it like a flat model. Small on purpose: two passes with their options fixed (so the budget of 3
// measures both and the baseline), one runtime setting, 30 timed runs.
let dir: string;
let run: CliResult;
let report: Report;

beforeAll(async () => {
  dir = await makeTempDir("optimize-vad-");
  await writeVadRecords(join(dir, "calibration.jsonl"), 16, 11);
  await writeVadRecords(join(dir, "eval.jsonl"), 24, 5);
  run = await runCli(
    [
      "optimize", realOnnxModels.vad, "-o", join(dir, "out"), "--shape", "input=1x512", "--shape", "batch=1",
      "--calibration", join(dir, "calibration.jsonl"), "--eval", join(dir, "eval.jsonl"), "--evaluator", "fidelity",
      "--pass", "onnx.quantize.int8-dynamic", "--pass", "onnx.quantize.auto", "--pass-option", "onnx.quantize.int8-dynamic:perChannel=false", "--pass-option", "onnx.quantize.int8-dynamic:weightType=uint8",
      "--pass-option", "onnx.quantize.auto:maxDrop=0.002",
      "--threads", "1", "--graph-opt", "all", "--no-memory-settings", "--budget", "3", "--runs", "30", "--warmup", "3",
      "--no-default-gates", "--gate", "accuracyRetention >= 0.95", "--cache-dir", join(dir, "cache"),
    ],
    { timeoutMs: 300_000 },
  );
  report = JSON.parse(await readFile(join(dir, "out", "report.json"), "utf8")) as Report;
}, 300_000);
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe("edgeforge optimize on Silero VAD (weights in If branches, LSTMs) (built CLI)", () => {
  it("plans, quantizes and measures int8-dynamic and auto, and recommends one", () => {
    expect(run.stderr).toContain("Recommended:");
    expect(run.code).toBe(0);
    expect(reportSchema.safeParse(report).success).toBe(true);
    expect(report.candidates.map((c) => c.id).sort()).toEqual(["auto-1t-all", "fp32-1t-all", "int8-dynamic-1t-all"].sort());
    expect(report.candidates.every((c) => c.status === "measured")).toBe(true);
    // VAD's output is one probability per frame: fidelity compares them across the frames, not each one's sign.
    expect(report.evaluation?.method).toContain('accuracyRetention = cosine of "output" across samples');
    for (const candidate of report.candidates.filter((c) => !c.isBaseline)) {
      expect(candidate.metrics.accuracyRetention).toBeGreaterThanOrEqual(0.95);
      expect(candidate.sideBySide?.ratios[0]?.low).toBeGreaterThan(0);
    }
  });

  it("auto quantizes inside the branches, keeps the sensitive branch nodes float, and its LSTMs run as DynamicQuantizeLSTM", () => {
    const auto = report.candidates.find((c) => c.id.startsWith("auto-"))!;
    const log = auto.passes[0]!;
    expect(log.counts.nodesQuantizedInSubgraphs).toBeGreaterThan(0);
    expect(log.counts.nodesQuantizedInSubgraphs).toBe(log.counts.nodesQuantized);
    expect(log.counts.nodesKeptFloat).toBeGreaterThan(0);
    expect(log.notes.join("\n")).toContain("8 LSTM(s) → com.microsoft.DynamicQuantizeLSTM");
    // Kept-float nodes are named by their path through the If that holds them.
    expect(log.notes.join("\n")).toMatch(/kept float32: If_25\/(then|else)_branch\//);
  });

  it("auto's artifact tracks the float model's speech probability over held-out frames", async () => {
    const auto = report.candidates.find((c) => c.id.startsWith("auto-"))!;
    const frames = 120;
    const steps = await runVadSideBySide(realOnnxModels.vad, auto.artifact!.path, frames, speechLikeFrames(frames, 23));
    const gaps = steps.map(({ float, candidate }) => Math.abs((float.output!.data as Float32Array)[0]! - (candidate.output!.data as Float32Array)[0]!));
    expect(Math.max(...gaps)).toBeLessThan(0.1);
    const decisions = steps.filter(({ float, candidate }) => (float.output!.data as Float32Array)[0]! > 0.5 === (candidate.output!.data as Float32Array)[0]! > 0.5).length;
    expect(decisions).toBeGreaterThanOrEqual(frames * 0.95);
  });
});
