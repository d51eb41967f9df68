/**
 * bench:quantize-throughput — how fast edgeforge quantizes weights, end to end and kernel only.
 * Model: BERT-base layer shapes (test/fixtures/bert-shaped-model.ts), 56.6 MB of float32 MatMul weights.
 * - End to end: `quantize(..., { method: "int8-dynamic" })` (read, quantize, atomic write with fsync,
 *   load-and-run check in onnxruntime, hashes), and the same pass given no runtime (all but the run
 *   check), in a child process per implementation: this checkout and, with `--baseline REF`, the src/
 *   of that git commit. The arms alternate (order flipped every round) after one untimed warm-up
 *   each; ratio = median of per-round baseline/candidate times with a 95 % bootstrap interval, so
 *   machine load cancels out. Each child is warm (onnxruntime loaded, the hashing worker started).
 * - Stages: the candidate's read, rewrite, write and run check timed one by one (so the figure
 *   without the load-and-run check can be given too).
 * - Kernel only: the int8 per-tensor kernel (SIMD and scalar) over every weight, in this process, into
 *   outputs allocated once (as the pass writes into reused chunk buffers); beside it the SIMD kernel
 *   with a fresh output per tensor (quantizePerTensor), which also times fresh pages.
 * - Memory touch: GB/s of writing fresh memory once (page faults), the bound for anything that must
 *   bring the file's bytes into the process; on a VM with shadow paging it is far below memory speed.
 * Writes bench/results/quantize-throughput.json. `--rounds N` (default 8).
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../src/core/atomic-write.js";
import { readOnnxModel } from "../src/formats/onnx/read-onnx.js";
import { getTensorData } from "../src/formats/onnx/tensor-data.js";
import { quantizePerTensor } from "../src/kernels/weight-quantization.js";
import { estimateRatio } from "../src/stats/paired-ratio.js";
import { median } from "../src/stats/describe-samples.js";
import { createRandom } from "../src/stats/random.js";
import { writeBertShapedModel } from "../test/fixtures/bert-shaped-model.js";
import { argument, type Arm, extractBaseline, log, repoRoot, startArm } from "./baseline-source.js";

function ask<T>(arm: Arm, request: Record<string, unknown>, pick: (reply: Record<string, unknown>) => T): Promise<T> {
  return new Promise((resolve, reject) => {
    arm.child.once("message", (reply: Record<string, unknown>) => (reply.error ? reject(new Error(`${arm.label}: ${String(reply.error)}`)) : resolve(pick(reply))));
    arm.child.send(request);
  });
}

function quantizeIn(arm: Arm, modelPath: string, outputPath: string, runCheck: boolean): Promise<number> {
  return ask(arm, { modelPath, outputPath, runCheck }, (reply) => reply.durationMs as number);
}

type Stages = Record<"readMs" | "rewriteMs" | "writeMs" | "inputHashWaitMs" | "runCheckMs", number>;

function fastestMs(run: () => void, times = 3): number {
  let best = Infinity;
  for (let i = 0; i < times; i++) {
    const start = process.hrtime.bigint();
    run();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
  }
  return best;
}

async function main(): Promise<void> {
  const rounds = Number(argument("--rounds") ?? 8);
  const baselineRef = argument("--baseline");
  const dir = await mkdtemp(join(tmpdir(), "edgeforge-bench-quantize-throughput-"));
  const arms: Arm[] = [];
  try {
    const loadAtStart = loadavg()[0]!;
    const modelPath = join(dir, "bert-base-shapes.onnx");
    const weightBytes = await writeBertShapedModel(modelPath);
    const fileBytes = (await stat(modelPath)).size;
    const gb = weightBytes / 1e9;

    const { model } = await readOnnxModel(modelPath);
    const weights = model.graph!.initializer.map((t) => Float32Array.from(getTensorData(t) as Float32Array));
    // Into outputs allocated once, as the pass quantizes into reused chunk buffers: fresh pages are slow on this VM
    // (the touch figure below), and a fresh output per tensor (quantizePerTensor) would time them too.
    const outputs = weights.map((w) => new Int8Array(w.length).fill(1));
    const kernelInto = (simd: boolean) => () => weights.forEach((w, i) => quantizePerTensor(w, { type: "int8", symmetric: true, simd }, outputs[i]));
    const simdMs = fastestMs(kernelInto(true));
    const scalarMs = fastestMs(kernelInto(false));
    const simdFreshMs = fastestMs(() => weights.forEach((w) => quantizePerTensor(w, { type: "int8", symmetric: true })));
    const touchMs = fastestMs(() => new Uint8Array(weightBytes).fill(1));
    log(`kernel only: SIMD ${(gb / (simdMs / 1000)).toFixed(2)} GB/s, scalar ${(gb / (scalarMs / 1000)).toFixed(2)} GB/s (into reused outputs); SIMD with a fresh output per tensor ${(gb / (simdFreshMs / 1000)).toFixed(2)} GB/s; fresh-memory touch ${(gb / (touchMs / 1000)).toFixed(2)} GB/s`);

    arms.push(await startArm("candidate", new URL("./quantize-throughput-child.ts", import.meta.url), repoRoot));
    const baseline = baselineRef ? await extractBaseline(baselineRef, dir) : undefined;
    if (baseline) arms.push(await startArm(`baseline ${baselineRef}`, new URL("./quantize-throughput-child.ts", import.meta.url), baseline.root));
    // Both with the load-and-run check (quantize(), as users run it) and without it (the pass given no runtime).
    const modes = [
      { runCheck: true, label: "end to end with the run check" },
      { runCheck: false, label: "without the run check" },
    ] as const;
    const times: number[][][] = modes.map(() => arms.map(() => []));
    for (const [index, arm] of arms.entries()) for (const { runCheck } of modes) await quantizeIn(arm, modelPath, join(dir, `warmup-${index}.onnx`), runCheck);
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? arms.map((_, i) => i) : arms.map((_, i) => i).reverse();
      for (const [mode, { runCheck }] of modes.entries()) {
        for (const index of order) times[mode]![index]!.push(await quantizeIn(arms[index]!, modelPath, join(dir, `out-${index}.onnx`), runCheck));
      }
    }
    const results = modes.map(({ runCheck, label }, mode) => {
      const perArm = arms.map((arm, index) => {
        const runsMs = times[mode]![index]!;
        const medianMs = median(runsMs);
        return { label: arm.label, runsMs, medianMs, gbPerSec: gb / (medianMs / 1000) };
      });
      const speedup = baseline ? estimateRatio(times[mode]![1]!.map((baselineMs, round) => baselineMs / times[mode]![0]![round]!), createRandom(7)) : undefined;
      for (const e of perArm) log(`${e.label}, ${label}: median ${e.medianMs.toFixed(0)} ms = ${e.gbPerSec.toFixed(3)} GB/s of float32 weights (${rounds} runs)`);
      if (speedup) log(`candidate vs baseline ${baselineRef}, ${label}: ${speedup.ratio.toFixed(2)}× faster [${speedup.low.toFixed(2)}, ${speedup.high.toFixed(2)}] (${speedup.pairs} rounds)`);
      return { runCheck, label, arms: perArm, ...(speedup ? { speedup } : {}) };
    });
    const stageKeys = ["readMs", "rewriteMs", "writeMs", "inputHashWaitMs", "runCheckMs"] as const;
    const stageRuns: Stages[] = [];
    for (let round = 0; round < rounds; round++) stageRuns.push(await ask(arms[0]!, { modelPath, outputPath: join(dir, "stages.onnx"), stages: true }, (reply) => reply.stagesMs as Stages));
    const stageMedians = Object.fromEntries(stageKeys.map((key) => [key, median(stageRuns.map((run) => run[key]))])) as Stages;
    const withoutRunCheckMs = median(stageRuns.map((run) => run.readMs + run.rewriteMs + run.writeMs + run.inputHashWaitMs));
    log(`candidate stages (medians of ${rounds}): read ${stageMedians.readMs.toFixed(0)} ms (input hash on a worker thread meanwhile), ranges ${stageMedians.rewriteMs.toFixed(0)} ms, quantize + write + output hash + fsync + rename ${stageMedians.writeMs.toFixed(0)} ms, then waiting for the input hash ${stageMedians.inputHashWaitMs.toFixed(1)} ms, load-and-run check ${stageMedians.runCheckMs.toFixed(0)} ms (alone; the pass runs it while the file is synced)`);
    log(`candidate stages without the run check: ${withoutRunCheckMs.toFixed(0)} ms = ${(gb / (withoutRunCheckMs / 1000)).toFixed(3)} GB/s`);
    const record = {
      schemaVersion: 1,
      bench: "quantize-throughput",
      machine: { cpuModel: cpus()[0]?.model ?? "unknown", logicalCpus: cpus().length, node: process.version, loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg()[0] },
      model: { description: "2 × BERT-base encoder layer matrices (random weights), int8-dynamic", weightBytes, fileBytes },
      kernel: { simdGbPerSec: gb / (simdMs / 1000), scalarGbPerSec: gb / (scalarMs / 1000), simdFreshOutputGbPerSec: gb / (simdFreshMs / 1000), note: "per-tensor int8 (min/max + quantize) over every weight, in memory, into outputs allocated once (simdFreshOutputGbPerSec: a fresh output per tensor, as quantizePerTensor allocates), best of 3" },
      memoryTouchGbPerSec: gb / (touchMs / 1000),
      results,
      candidateStages: {
        medianMs: stageMedians,
        withoutRunCheck: { medianMs: withoutRunCheckMs, gbPerSec: gb / (withoutRunCheckMs / 1000) },
        note: "the pass's stages timed one by one in the candidate's process after the A/B rounds: read (field scan, weights left in the file; the input's sha256 computed on a worker thread meanwhile), rewrite (a range read of every weight), write (quantize while writing, output sha256, fsync of file and folder, rename), the wait for the input's hash, load-and-run check in onnxruntime (its session opened as quantize() opens it, timed alone; the pass runs it on the temp file while the file is synced)",
      },
      ...(baseline ? { baseline: { ref: baselineRef, commit: baseline.commit } } : {}),
      method: "each implementation in its own child process (node --import tsx), one untimed warm-up per mode each, then per round both modes (quantize() with its run check; the pass given no runtime) with the arms alternating, order flipped every round; speed-up = median of per-round baseline/candidate wall times with a 95 % bootstrap interval",
    };
    await writeFileAtomic(fileURLToPath(new URL("./results/quantize-throughput.json", import.meta.url)), `${JSON.stringify(record, null, 2)}\n`);
    console.log(JSON.stringify(record, null, 2));
  } finally {
    for (const arm of arms) arm.child.kill();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
