import { writeFile } from "node:fs/promises";
import { create, toBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema, StringStringEntryProtoSchema } from "onnx-buf";
import { describe, expect, it } from "vitest";
import { planOptimize } from "../../src/api/optimize.js";
import { inspectOnnx } from "../../src/formats/onnx/inspect-onnx.js";
import { readShapeHints } from "../../src/formats/onnx/read-shape-hints.js";
import { model, node, realOnnxModels, valueInfo } from "../fixtures/onnx-test-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";

const temp = useTempDir("edgeforge-shape-hints-");

async function writeReluModel(path: string, metadata: Record<string, string>): Promise<string> {
  const m = model([node("Relu", ["input"], ["output"])], { inputs: [valueInfo("input", ["batch", "sequence"])], outputs: [valueInfo("output", ["batch", "sequence"])] });
  m.metadataProps = Object.entries(metadata).map(([key, value]) => create(StringStringEntryProtoSchema, { key, value }));
  await writeFile(path, toBinary(ModelProtoSchema, m));
  return path;
}

describe("dynamic input dimensions from the model's own metadata", () => {
  it("the real models state no sizes: PP-OCRv4 det/rec/cls and Silero VAD have empty metadata_props", async () => {
    for (const path of Object.values(realOnnxModels)) {
      const inspection = await inspectOnnx(path);
      expect(inspection.metadata, path).toEqual({});
      expect(readShapeHints(inspection.metadata, inspection.inputs).shapes, path).toEqual({});
    }
  });

  it("optimize fills a dimension the metadata states, or stops before any work with the --shape to add", async () => {
    const stated = await writeReluModel(temp.join("stated.onnx"), { sequence: "64" });
    const plan = await planOptimize({ model: stated, output: temp.join("out"), target: "local" });
    expect(plan.config.measurement.shapes).toEqual({ sequence: [64] });
    expect(plan.prepared.plan.reasons[0]).toBe('input shapes from the model\'s own metadata: sequence=64 (metadata_props "sequence" = "64")');
    const silent = await writeReluModel(temp.join("silent.onnx"), {});
    await expect(planOptimize({ model: silent, output: temp.join("out2"), target: "local" })).rejects.toMatchObject({ code: "INVALID_SHAPE", hint: "fix it with --shape input=1xD or --shape sequence=N" });
  });
});
