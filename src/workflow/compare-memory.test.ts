import { describe, expect, it } from "vitest";
import type { ArmMemory } from "../bench/measure-side-by-side.js";
import { compareModelMemory, rankingMemory } from "./compare-memory.js";

const MiB = 2 ** 20;
const llamaReport = { source: "llama.cpp", totalBytes: 16 * MiB, parts: [{ name: "weights", bytes: 10 * MiB, includes: "tensors" }, { name: "KV cache", bytes: 1 * MiB, includes: "K and V" }, { name: "compute buffers", bytes: 5 * MiB, includes: "graph" }] };
const gguf: ArmMemory = { peakRssBytes: 150 * MiB, referencePeakRssBytes: 120 * MiB, modelBytes: 16 * MiB, modelBytesSource: "weights + KV cache + compute buffers, as allocated (llama.cpp)", runtimeReported: llamaReport, source: "VmHWM" };
const mlx: ArmMemory = { peakRssBytes: 140 * MiB, referencePeakRssBytes: 128 * MiB, modelBytes: 12 * MiB, modelBytesSource: "peak RSS minus a reference process", source: "VmHWM" };

describe("compareModelMemory", () => {
  it("compares an MLX candidate (RSS only) with the input GGUF on RSS over the reference on both sides, and says so", () => {
    const c = compareModelMemory(mlx, gguf);
    // Not 12 MiB (RSS) against llama.cpp's 16 MiB allocation report: 12 MiB against the GGUF's 30 MiB over its reference.
    expect(c).toMatchObject({ candidateBytes: 12 * MiB, baselineBytes: 30 * MiB, rebased: true });
    expect(c?.basis).toMatch(/peak RSS minus a reference process.*on both sides.*only the input model's runtime reports/);
  });

  it("keeps each arm's own figure when both have the same basis", () => {
    const q4 = { ...gguf, modelBytes: 9 * MiB, runtimeReported: { ...llamaReport, totalBytes: 9 * MiB } };
    expect(compareModelMemory(q4, gguf)).toMatchObject({ candidateBytes: 9 * MiB, baselineBytes: 16 * MiB, rebased: false, basis: q4.modelBytesSource });
    const onnx = { ...mlx, modelBytes: 8 * MiB };
    expect(compareModelMemory(onnx, mlx)).toMatchObject({ candidateBytes: 8 * MiB, baselineBytes: 12 * MiB, rebased: false });
  });

  it("gives no comparison when a side lacks the figure the basis needs", () => {
    const { referencePeakRssBytes: _dropped, ...noReference } = gguf;
    expect(compareModelMemory(mlx, noReference)).toBeUndefined();
    const { modelBytes: _none, ...noModel } = mlx;
    expect(compareModelMemory(noModel, mlx)).toBeUndefined();
  });
});

describe("rankingMemory", () => {
  const recorded = (arm: ArmMemory) => ({ peakRssBytes: arm.peakRssBytes, ...(arm.referencePeakRssBytes === undefined ? {} : { referencePeakRssBytes: arm.referencePeakRssBytes }), ...(arm.modelBytes === undefined ? {} : { modelMemoryBytes: arm.modelBytes }), ...(arm.runtimeReported ? { parts: arm.runtimeReported.parts } : {}) });

  it("ranks GGUF candidates (llama.cpp's report) and an MLX candidate (RSS only) on RSS over the reference for all", () => {
    const q4 = { ...gguf, peakRssBytes: 135 * MiB, modelBytes: 9 * MiB };
    const ranking = rankingMemory([
      { id: "input", memory: recorded(gguf) },
      { id: "q4", memory: recorded(q4) },
      { id: "mlx", memory: recorded(mlx) },
    ]);
    // By their own figures the MLX candidate (12 MiB of RSS) would look heavier than q4 (9 MiB allocated); on one basis it is lighter.
    expect(ranking?.bytesById).toEqual(new Map([["input", 30 * MiB], ["q4", 15 * MiB], ["mlx", 12 * MiB]]));
    expect(ranking?.basis).toMatch(/peak RSS minus a reference process.*for every candidate/);
  });

  it("changes nothing when every candidate's own figure has the same basis", () => {
    expect(rankingMemory([{ id: "input", memory: recorded(gguf) }, { id: "q4", memory: recorded({ ...gguf, modelBytes: 9 * MiB }) }])).toBeUndefined();
    expect(rankingMemory([{ id: "a", memory: recorded(mlx) }, { id: "b" }])).toBeUndefined();
  });
});
