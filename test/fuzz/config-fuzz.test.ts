import { writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { readDatasetSpec } from "../../src/datasets/dataset-spec.js";
import { parseGatesDocument } from "../../src/gates/gates-file.js";
import { getPass, passIds } from "../../src/passes/catalog.js";
import { checkWorkflowSettings } from "../../src/workflow/check-workflow-settings.js";
import { parseConfigDocument, resolveWorkflowConfig } from "../../src/workflow/load-workflow-config.js";
import { parsePipelineConfig } from "../../src/workflow/run-pipeline.js";
import { mutateText, runFuzzCases } from "../fixtures/mutate-bytes.js";
import { useTempDir } from "../fixtures/temp-dir.js";

const temp = useTempDir("config-fuzz-");
const passes = passIds.map((id) => getPass(id));

/** Realistic documents of each kind, as a user writes them (see docs/decide.md and docs/measure.md). */
const workflowYaml = `schemaVersion: 1
model: ./models/ch_PP-OCRv4_rec_infer.onnx
output: ./out
target: raspberry-pi-5-8gb
data: { evaluation: ./data/lines, calibration: ./data/calib, evaluator: ctc, limit: 64 }
search: { strategy: tpe, maxCandidates: 12, maxTimeSec: 600, seed: 7, stopWhenGoalsMet: false }
candidates:
  passes: [onnx.quantize.int8-static, onnx.quantize.int4, onnx.convert.fp16]
  exclude: [mlx.export]
  threads: [1, 4]
  graphOptimizationLevels: [basic, all]
  ggufTypes: [Q4_K_M, Q8_0]
  passOptions: { onnx.quantize.int4: { blockSize: 64, symmetric: true }, onnx.quantize.int8-static: { perChannel: true } }
measurement: { runs: 30, warmupRuns: 5, shapes: { x: [1, 3, 48, 320] }, contextSize: 256 }
objectives: ["p50LatencyMs:min:2", "accuracyRetention:max"]
constraints: ["peakRssBytes <= 512MB"]
gates:
  useDefaults: false
  list: [{ metric: accuracyRetention, value: 0.95 }, { metric: speedup, value: 1.5, priority: 2 }]
cache: { enabled: true, dir: ./cache }
`;

const gatesYaml = `schemaVersion: 1
gates:
  - name: accuracy kept
    metric: accuracyRetention
    goal: threshold
    value: 95%
    priority: 1
  - metric: p95LatencyMs
    goal: percent-min-improvement
    value: 40
    priority: 2
  - metric: peakRssBytes
    op: "<="
    value: 512MB
    priority: 3
`;

const pipelineYaml = `schemaVersion: 1
name: ocr-rec
model: /models/rec.onnx
target: local
output: ./ocr-rec
stages:
  validation:
    maxSizeBytes: 50MB
  optimization:
    candidates: { passes: [onnx.quantize.int8-dynamic], threads: [1] }
    search: { maxCandidates: 2 }
    measurement: { runs: 5, warmupRuns: 1, shapes: { x: [1, 3, 48, 192] } }
  testing:
    gates: { list: [{ metric: accuracyRetention, value: 0.9 }] }
    verifyRecommended: { runs: 10, tolerancePercent: 50 }
  packaging:
    dir: package
`;

const datasetJson = JSON.stringify(
  {
    schemaVersion: 1,
    kind: "images",
    inputName: "x",
    labels: "manifest",
    manifest: "manifest.jsonl",
    classes: ["cat", "dog", "bird"],
    preprocess: { width: 224, height: 224, fit: "cover", position: "centre", background: [0, 0, 0], channels: "rgb", layout: "nchw", dtype: "float32", scale: 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    limit: 500,
  },
  null,
  2,
);

function total(outcome: { parsed: number; typedErrors: Record<string, number> }): number {
  return outcome.parsed + Object.values(outcome.typedErrors).reduce((a, b) => a + b, 0);
}

describe("config parsers fuzz: mutated documents end in a config or a typed error", () => {
  it("workflow config (YAML): 200 cases through parse, schema and the before-work checks", async () => {
    expect(() => checkWorkflowSettings(resolveWorkflowConfig(parseConfigDocument(workflowYaml, "w"), "w"), passes)).not.toThrow();
    const outcome = await runFuzzCases(200, 6, (random) => {
      const { text, description } = mutateText(workflowYaml, random);
      return { description, run: () => checkWorkflowSettings(resolveWorkflowConfig(parseConfigDocument(text, "workflow.yaml"), "workflow.yaml"), passes) };
    });
    console.log(`workflow config fuzz: ${JSON.stringify(outcome)}`);
    expect(total(outcome)).toBe(200);
  });

  it("gates file (YAML): 150 cases", async () => {
    expect(parseGatesDocument(gatesYaml, "g")).toHaveLength(3);
    const outcome = await runFuzzCases(150, 7, (random) => {
      const { text, description } = mutateText(gatesYaml, random);
      return { description, run: () => parseGatesDocument(text, "gates.yaml") };
    });
    console.log(`gates fuzz: ${JSON.stringify(outcome)}`);
    expect(total(outcome)).toBe(150);
  });

  it("pipeline file (YAML): 150 cases", async () => {
    expect(parsePipelineConfig(parseConfigDocument(pipelineYaml, "p"), "p").name).toBe("ocr-rec");
    const outcome = await runFuzzCases(150, 8, (random) => {
      const { text, description } = mutateText(pipelineYaml, random);
      return { description, run: () => parsePipelineConfig(parseConfigDocument(text, "pipeline.yaml"), "pipeline.yaml") };
    });
    console.log(`pipeline fuzz: ${JSON.stringify(outcome)}`);
    expect(total(outcome)).toBe(150);
  });

  it("dataset spec (dataset.json): 200 cases, each read from a file", async () => {
    const path = temp.join("dataset.json");
    await writeFile(path, datasetJson);
    await expect(readDatasetSpec(path)).resolves.toMatchObject({ kind: "images" });
    const outcome = await runFuzzCases(200, 9, (random) => {
      const { text, description } = mutateText(datasetJson, random);
      return { description, run: async () => readDatasetSpec(await writeFile(path, text).then(() => path)) };
    });
    console.log(`dataset spec fuzz: ${JSON.stringify(outcome)}`);
    expect(total(outcome)).toBe(200);
  });
});
