import { describe, expect, it } from "vitest";
import { runBenchmark, shapesForArtifact } from "./run-benchmark.js";

describe("shapesForArtifact", () => {
  const names = ["det.onnx", "rec.onnx"];
  it("applies unprefixed shapes to every model and prefixed ones to theirs only", () => {
    const shapes = { "det.onnx:x": [1, 3, 64, 64], "rec.onnx:x": [1, 3, 48, 160], batch: [2], "input:0": [1, 4] };
    expect(shapesForArtifact(shapes, { label: "det.onnx", path: "/m/det.onnx" }, names)).toEqual({ x: [1, 3, 64, 64], batch: [2], "input:0": [1, 4] });
    expect(shapesForArtifact(shapes, { label: "rec.onnx", path: "/m/rec.onnx" }, names)).toEqual({ x: [1, 3, 48, 160], batch: [2], "input:0": [1, 4] });
  });
});

describe("runBenchmark options", () => {
  it("rejects contradictory or out-of-range settings before measuring anything", async () => {
    await expect(runBenchmark({ models: [] })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await expect(runBenchmark({ models: ["m.onnx"], iterations: 5, minTimeMs: 100 })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await expect(runBenchmark({ models: ["m.onnx"], repetitions: 0 })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await expect(runBenchmark({ models: ["m.onnx"], sweepSizes: [2, -1] })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await expect(runBenchmark({ models: ["m.onnx"], settings: { threads: 0 } })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await expect(runBenchmark({ models: ["m.onnx"], settings: { executionProviders: [] } })).rejects.toMatchObject({ code: "INVALID_OPTION" });
  });
});
