import type { ModelFormat } from "../core/artifact.js";
import { EdgeforgeError } from "../core/errors.js";
import { silentLogger, type Reporter } from "../core/logger.js";
import type { RuntimeMemoryReport } from "../core/session.js";
import type { ShapeOverrides } from "../core/shapes.js";
import type { InputValues } from "../datasets/synthetic-inputs.js";
import type { LatencyStats } from "../reports/bench-record.js";
import type { RuntimeId } from "../runtimes/catalog.js";
import type { RuntimeSettings } from "../runtimes/runtime-settings.js";
import { percentileOfSorted } from "../stats/describe-samples.js";
import { decideRatio, estimateRatio, latencyRatios, rateRatios, type RatioDecision, type RatioEstimate } from "../stats/paired-ratio.js";
import { createRandom } from "../stats/random.js";
import { BlockChild } from "./block-child.js";
import { formatCpuList, planRoundCpus, readPinnableCpus } from "./cpu-affinity.js";
import { readCpuLoad, type CpuLoad } from "./read-cpu-load.js";
import { checkBenchChildBuilt, spawnBenchChild } from "./spawn-bench-child.js";
import { latencyStats } from "./time-runs.js";
import { generationTokenCount } from "./time-generation.js";

/** One model at one set of runtime settings. */
export interface SideBySideArm {
  label: string;
  artifactPath: string;
  format: ModelFormat;
  runtime: RuntimeId;
  settings: RuntimeSettings;
}

/** A ratio to estimate: arm `candidate` against arm `baseline` (indices into `arms`). */
export interface SideBySideComparison {
  candidate: number;
  baseline: number;
  /** Speed-up the candidate must reach (e.g. a gate's 2×); measuring continues while the interval straddles it. */
  threshold?: number;
  /** Which ratio the threshold judges: "latency" (p50 ratio, default), "rate" (throughput / tokens/s ratio) or "generation" (generation tokens/s ratio). */
  decideOn?: "latency" | "rate" | "generation";
}

export interface InterleavedOptions extends Reporter {
  arms: readonly SideBySideArm[];
  comparisons: readonly SideBySideComparison[];
  shapes?: ShapeOverrides;
  values?: InputValues;
  seed?: number;
  /** Distinct generated input sets cycled through the runs; default 4. */
  inputSets?: number;
  /** Untimed runs after the first inference, per arm; default 5. */
  warmupIterations?: number;
  /** Untimed runs for this long after the warm-up runs, each arm alone before the first block; default 1000. */
  settleMs?: number;
  /** Wall time of one block; default 150 ms. */
  blockMs?: number;
  /** Untimed runs at the start of each block (at least one), re-warming after the switch from another arm; default blockMs / 5. */
  blockWarmupMs?: number;
  /** Timed runs per block at least, however long they take; default 3. */
  minRunsPerBlock?: number;
  /**
   * Token-by-token models: timed generations per block at least; a block times generations for blockMs in any case
   * (1 thread: ~10 generations of 32 tokens). Default 1: a 2-thread decode on 2 vCPUs takes 7–180 ms/token
   * (thread creation per token, more under load), so one generation already fills the block time, and each extra
   * one costs seconds per block (bench:verdict 2026-12-04 00:20 UTC, load 3.1–5.6: optimize on tiny-fortunes took 334 s with a minimum of 3, 79–83 s before this change at load 1.2–2.5).
   */
  minGenerationsPerBlock?: number;
  /** Rounds (every arm one block) before any decision; default 6. */
  minRounds?: number;
  /** Rounds at most, adaptive extras included; default 16. */
  maxRounds?: number;
  /** Stop adding rounds after this much measuring time; default 60000. */
  maxTimeMs?: number;
  /** Confidence level of the intervals; default 0.95. */
  level?: number;
  /**
   * Pin each block to CPUs shared with the other arms of as many threads, rotating every round (Linux with
   * taskset; unpinned elsewhere); default true. One vCPU of a VM can run 1.65× slower than another for minutes.
   */
  pinCpus?: boolean;
  /**
   * Measure on these CPUs only (`bench --compare --cpus`): every child starts pinned to them and blocks rotate over
   * them. Default: every CPU this process may use.
   */
  cpus?: readonly number[];
  /** Measure a reference child per runtime setting for model-attributable memory; default true. */
  memoryReference?: boolean;
  /** Per child message (load included); default 600000. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface ArmMemory {
  /** Peak RSS of the arm's whole process (Node + runtime + model + inputs). */
  peakRssBytes: number;
  /** Peak RSS of a reference process with the same runtime and settings running a trivial model. */
  referencePeakRssBytes?: number;
  /**
   * What the model itself costs at these settings: the runtime's own allocation report where it
   * gives one (llama.cpp: weights + KV cache + compute buffers), otherwise peakRssBytes − referencePeakRssBytes.
   */
  modelBytes?: number;
  /** What modelBytes is, in words. */
  modelBytesSource?: string;
  /** The runtime's allocation report, by part. */
  runtimeReported?: RuntimeMemoryReport;
  source: "VmHWM" | "maxRSS";
  referenceWorkload?: string;
}

export interface ArmResult {
  label: string;
  artifactPath: string;
  settingsApplied: Record<string, unknown>;
  runtime: string;
  runtimeVersion: string;
  executionProvider: string;
  loadMs: number;
  firstInferenceMs: number;
  /** All timed runs of all blocks pooled: absolute figures, as slow as the machine was. */
  latency: LatencyStats;
  /** Samples (or tokens, for token-sequence models) per second over all blocks. */
  ratePerSec: number;
  rateUnit: "samples" | "tokens";
  blockP50Ms: number[];
  blockRatePerSec: number[];
  /** Token-by-token models: generation tokens/s over every block's timed generations (llama-bench tg style). */
  generationTokensPerSec?: number;
  blockGenerationPerSec?: number[];
  /** Per block, the CPUs the arm's threads were allowed (as the child read them; absent without /proc). */
  blockCpus?: string[];
  /** Timed generations over all blocks (settle and re-warm generations not counted), and the untimed ones of the settle. */
  generationsTimed?: number;
  settleGenerations?: number;
  memory: ArmMemory;
}

export interface ComparisonResult {
  candidate: string;
  baseline: string;
  /** Baseline p50 / candidate p50, per block pair: > 1 = candidate faster. */
  latencyRatio: RatioEstimate;
  /** Candidate rate / baseline rate (throughput or tokens/s), per block pair. */
  rateRatio: RatioEstimate;
  /** Token-by-token models: candidate generation tokens/s / baseline's, per block pair. */
  generationRatio?: RatioEstimate;
  threshold?: number;
  /** The thresholded ratio (latencyRatio, or rateRatio with decideOn "rate") judged on its interval. */
  decision?: RatioDecision;
}

export interface InterleavedResult {
  arms: ArmResult[];
  comparisons: ComparisonResult[];
  rounds: number;
  stoppedBecause: string;
  /** Machine load sampled just before measuring. */
  load: CpuLoad;
  /** How the figures were measured, in one sentence for reports. */
  method: string;
}

/** How each arm starts before its first block; bench:verdict's independent A/B starts from the same state. */
export const sideBySideWarmup = { warmupIterations: 5, settleMs: 1000 } as const;

function settingsKey(arm: SideBySideArm): string {
  return JSON.stringify([arm.runtime, arm.settings]);
}

/** Round r runs the arms forward when r is even, backward when odd, so neither side always goes first. */
export function roundOrder(armCount: number, round: number): number[] {
  const forward = Array.from({ length: armCount }, (_, i) => i);
  return round % 2 === 0 ? forward : forward.reverse();
}

function blockP50Ms(latenciesNs: readonly number[]): number {
  const sorted = Float64Array.from(latenciesNs).sort();
  return sorted.length === 0 ? 0 : percentileOfSorted(sorted, 0.5) / 1e6;
}

/**
 * Measure several arms in the same time window: each arm in its own long-lived child process
 * (one model's memory and thread pool never colours another's), loaded one after the other, then
 * rounds in which every arm runs one timed block of the same wall time, order alternating. Every
 * comparison's ratio is the median of its per-round ratios, with a bootstrap interval; while a
 * comparison's interval straddles its threshold, more rounds are run (up to maxRounds/maxTimeMs).
 */
export async function measureInterleaved(options: InterleavedOptions): Promise<InterleavedResult> {
  const { arms, comparisons } = options;
  if (arms.length < 1) throw new EdgeforgeError("INVALID_OPTION", "a side-by-side measurement needs at least one arm", { hint: "give a baseline and a candidate" });
  for (const c of comparisons) {
    if (!arms[c.candidate] || !arms[c.baseline] || c.candidate === c.baseline) {
      throw new EdgeforgeError("INVALID_OPTION", `comparison ${c.candidate} vs ${c.baseline} does not name two different arms`, { details: { comparison: c } });
    }
  }
  const logger = options.logger ?? silentLogger;
  const signal = options.signal;
  const seed = options.seed ?? 1;
  const blockMs = options.blockMs ?? 150;
  const minRuns = options.minRunsPerBlock ?? 3;
  const minGenerations = options.minGenerationsPerBlock ?? 1;
  const blockWarmupMs = options.blockWarmupMs ?? blockMs / 5;
  const minRounds = options.minRounds ?? 6;
  const maxRounds = Math.max(minRounds, options.maxRounds ?? 16);
  const maxTimeMs = options.maxTimeMs ?? 60_000;
  const timeoutMs = options.timeoutMs ?? 600_000;
  const level = options.level ?? 0.95;
  await checkBenchChildBuilt();
  const givenCpus = options.cpus !== undefined && options.cpus.length > 0 ? options.cpus : undefined;
  const pinnable = givenCpus ? [...givenCpus] : (options.pinCpus ?? true) ? await readPinnableCpus(signal) : undefined;
  const load = await readCpuLoad(500, signal);

  const references = new Map<string, { peakRssBytes: number; workload: string; source: "VmHWM" | "maxRSS" }>();
  if (options.memoryReference ?? true) {
    for (const arm of arms) {
      const key = settingsKey(arm);
      if (references.has(key)) continue;
      const outcome = await spawnBenchChild({ mode: "reference", runtime: arm.runtime, settings: arm.settings }, { timeoutMs: 120_000, ...(signal ? { signal } : {}), ...(options.env ? { env: options.env } : {}), ...(givenCpus ? { cpus: givenCpus } : {}) });
      if (outcome.result?.ok && outcome.result.mode === "reference") {
        references.set(key, { peakRssBytes: outcome.result.peakRssBytes, workload: outcome.result.workload, source: outcome.result.memorySource });
      } else {
        logger.warn(`memory reference for ${arm.runtime} ${JSON.stringify(arm.settings)} failed; model-attributable memory is not reported for it`);
      }
    }
  }

  const children: BlockChild[] = [];
  try {
    const ready = [];
    // Loaded one at a time, so loading never overlaps another arm's work.
    for (const arm of arms) {
      const child = await BlockChild.spawn(arm.label, {
        mode: "blocks",
        artifactPath: arm.artifactPath,
        format: arm.format,
        runtime: arm.runtime,
        settings: arm.settings,
        inputs: { kind: "generated" },
        seed,
        shapes: options.shapes ?? {},
        unknownShapes: "error",
        ...(options.values ? { values: options.values } : {}),
        inputSets: options.inputSets ?? 4,
        warmupIterations: options.warmupIterations ?? sideBySideWarmup.warmupIterations,
        settleMs: options.settleMs ?? sideBySideWarmup.settleMs,
      }, options.env, givenCpus);
      children.push(child);
      ready.push(await child.ready(timeoutMs));
      signal?.throwIfAborted();
    }
    const latencies = arms.map((): number[] => []);
    const blockP50 = arms.map((): number[] => []);
    const blockRate = arms.map((): number[] => []);
    const blockGeneration = arms.map((): number[] => []);
    const blockCpus = arms.map((): string[] => []);
    const totals = arms.map(() => ({ units: 0, wallNs: 0, generations: 0, generatedTokens: 0, generationNs: 0 }));
    const unitsPerRun = ready.map((r) => r.tokensPerRun ?? r.samplesPerRun);
    const random = createRandom(seed);
    const estimate = () =>
      comparisons.map((c): ComparisonResult => {
        const latencyRatio = estimateRatio(latencyRatios(blockP50[c.baseline] ?? [], blockP50[c.candidate] ?? []), random, { level });
        const rateRatio = estimateRatio(rateRatios(blockRate[c.baseline] ?? [], blockRate[c.candidate] ?? []), random, { level });
        const generated = (blockGeneration[c.baseline]?.length ?? 0) > 0 && (blockGeneration[c.candidate]?.length ?? 0) > 0;
        const generationRatio = generated ? estimateRatio(rateRatios(blockGeneration[c.baseline] ?? [], blockGeneration[c.candidate] ?? []), random, { level }) : undefined;
        const decided = c.decideOn === "generation" ? (generationRatio ?? rateRatio) : c.decideOn === "rate" ? rateRatio : latencyRatio;
        return {
          candidate: (arms[c.candidate] as SideBySideArm).label,
          baseline: (arms[c.baseline] as SideBySideArm).label,
          latencyRatio,
          rateRatio,
          ...(generationRatio ? { generationRatio } : {}),
          ...(c.threshold === undefined ? {} : { threshold: c.threshold, decision: decideRatio(decided, c.threshold) }),
        };
      });
    const started = Date.now();
    let rounds = 0;
    let stoppedBecause = "";
    let results: ComparisonResult[] = [];
    for (;;) {
      for (const index of roundOrder(arms.length, rounds)) {
        const child = children[index] as BlockChild;
        // Before the block's untimed re-warm, so the move to other CPUs is not timed.
        if (pinnable) await child.pin(planRoundCpus(pinnable, (arms[index] as SideBySideArm).settings.threads, rounds), signal);
        const reply = await child.block({ minTimeMs: blockMs, minRuns, warmupMs: blockWarmupMs, minGenerations }, timeoutMs);
        if (reply.affinity) blockCpus[index]?.push(reply.affinity.join(" | "));
        latencies[index]?.push(...reply.latenciesNs);
        blockP50[index]?.push(blockP50Ms(reply.latenciesNs));
        const units = reply.latenciesNs.length * (unitsPerRun[index] as number);
        blockRate[index]?.push(units / (reply.wallNs / 1e9));
        const total = totals[index] as (typeof totals)[number];
        total.units += units;
        total.wallNs += reply.wallNs;
        if (reply.generation) {
          blockGeneration[index]?.push(reply.generation.tokens / (reply.generation.ns / 1e9));
          total.generations += reply.generation.generations;
          total.generatedTokens += reply.generation.tokens;
          total.generationNs += reply.generation.ns;
        }
        signal?.throwIfAborted();
      }
      rounds += 1;
      if (rounds < minRounds) continue;
      results = estimate();
      const undecided = results.filter((r) => r.decision === "inconclusive");
      if (undecided.length === 0) {
        stoppedBecause = results.some((r) => r.decision) ? "every thresholded ratio decided" : `${minRounds} rounds (no threshold to decide)`;
        break;
      }
      if (rounds >= maxRounds) {
        stoppedBecause = `round budget reached (${maxRounds}) with ${undecided.length} ratio(s) still straddling the threshold`;
        break;
      }
      if (Date.now() - started >= maxTimeMs) {
        stoppedBecause = `time budget reached (${maxTimeMs} ms) with ${undecided.length} ratio(s) still straddling the threshold`;
        break;
      }
    }
    const armResults: ArmResult[] = [];
    for (const [index, child] of children.entries()) {
      const done = await child.finish(timeoutMs);
      const arm = arms[index] as SideBySideArm;
      const r = ready[index] as (typeof ready)[number];
      const reference = references.get(settingsKey(arm));
      const pooled = latencies[index] as number[];
      const total = totals[index] as (typeof totals)[number];
      const overReference = reference ? Math.max(0, done.peakRssBytes - reference.peakRssBytes) : undefined;
      const reported = r.runtimeMemory;
      armResults.push({
        label: arm.label,
        artifactPath: arm.artifactPath,
        settingsApplied: r.settings,
        runtime: r.runtime,
        runtimeVersion: r.runtimeVersion,
        executionProvider: r.executionProvider,
        loadMs: r.loadMs,
        firstInferenceMs: r.firstInferenceMs,
        latency: latencyStats(pooled),
        ratePerSec: total.wallNs > 0 ? total.units / (total.wallNs / 1e9) : 0,
        rateUnit: r.tokensPerRun === undefined ? "samples" : "tokens",
        blockP50Ms: blockP50[index] as number[],
        blockRatePerSec: blockRate[index] as number[],
        ...((blockCpus[index]?.length ?? 0) > 0 ? { blockCpus: blockCpus[index] as string[] } : {}),
        ...(total.generationNs > 0
          ? { generationTokensPerSec: total.generatedTokens / (total.generationNs / 1e9), blockGenerationPerSec: blockGeneration[index] as number[], generationsTimed: total.generations, ...(r.settleGenerations === undefined ? {} : { settleGenerations: r.settleGenerations }) }
          : {}),
        memory: {
          peakRssBytes: done.peakRssBytes,
          source: done.memorySource,
          ...(reference ? { referencePeakRssBytes: reference.peakRssBytes, referenceWorkload: reference.workload } : {}),
          ...(reported
            ? { modelBytes: reported.totalBytes, modelBytesSource: `${reported.parts.map((p) => p.name).join(" + ")}, as allocated (${reported.source})`, runtimeReported: reported }
            : overReference === undefined
              ? {}
              : { modelBytes: overReference, modelBytesSource: "peak RSS minus a reference process with the same runtime and settings running a trivial model" }),
        },
      });
    }
    const threads = [...new Set(arms.map((a) => a.settings.threads ?? "runtime default"))].join("/");
    const settleMs = options.settleMs ?? sideBySideWarmup.settleMs;
    const generating = armResults.some((a) => a.generationTokensPerSec !== undefined);
    const method =
      `${arms.length} arm${arms.length === 1 ? "" : "s"} in their own processes, ${rounds} rounds of one block per arm, order alternating each round; a block = ≥ ${Math.round(blockWarmupMs)} ms / 1 run untimed, then ~${blockMs} ms of timed runs (≥ ${minRuns})` +
      `${generating ? `, then (generation) ≥ ${Math.round(blockWarmupMs)} ms / 1 generation untimed and ~${blockMs} ms of timed generations (≥ ${minGenerations}) of ${generationTokenCount} tokens decoded one at a time, tokens/s = timed tokens / their decode time` : ""}; ` +
      `before the first block ${options.warmupIterations ?? sideBySideWarmup.warmupIterations} warm-up runs then ${settleMs} ms of untimed runs${generating ? ` then ${settleMs} ms (≥ 1) of untimed generations` : ""} per arm, threads ${threads}, ${pinnable ? `each block pinned to the same CPUs as the other arms with as many threads, rotating over CPUs ${formatCpuList(pinnable)} round by round` : "unpinned (no CPU affinity control here)"}; ratio = median of per-round ratios, ${Math.round(level * 100)}% bootstrap interval; ` +
      `machine: ${load.cores} cores, ${load.busyCores === undefined ? "load unknown" : `${load.busyCores.toFixed(1)} busy before measuring`}${load.loadAverage1m === undefined ? "" : `, load average ${load.loadAverage1m.toFixed(2)}`}`;
    return { arms: armResults, comparisons: results, rounds, stoppedBecause, load, method };
  } finally {
    for (const child of children) await child.dispose();
  }
}

export interface SideBySideOptions extends Omit<InterleavedOptions, "arms" | "comparisons"> {
  baseline: SideBySideArm;
  candidate: SideBySideArm;
  /** Speed-up the candidate must reach; measuring continues while the interval straddles it. */
  threshold?: number;
}

export interface SideBySideResult extends Omit<InterleavedResult, "comparisons"> {
  comparison: ComparisonResult;
}

/**
 * The common case: one candidate against one baseline, alternating blocks in the same time window.
 * `comparison.latencyRatio` is the speed-up (> 1 = candidate faster) with its interval;
 * `comparison.decision` says pass / fail / inconclusive when a threshold is given.
 */
export async function measureSideBySide(options: SideBySideOptions): Promise<SideBySideResult> {
  const { baseline, candidate, threshold, ...rest } = options;
  const result = await measureInterleaved({ ...rest, arms: [baseline, candidate], comparisons: [{ baseline: 0, candidate: 1, ...(threshold === undefined ? {} : { threshold }) }] });
  const { comparisons, ...others } = result;
  return { ...others, comparison: comparisons[0] as ComparisonResult };
}
