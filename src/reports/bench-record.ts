import type { MetricValues } from "../pareto/metric-catalog.js";
import type { RatioEstimate } from "../stats/paired-ratio.js";
import type { SessionDescription } from "../core/session.js";

/**
 * The one typed record of an `edgeforge bench` run (DESIGN.md convention 7). The canonical JSON
 * is this object; Markdown, CSV and JSONL are renderings of it. Bump the version when a field
 * changes meaning or disappears; adding fields keeps it.
 */
export const benchSchemaVersion = 1;

/** Warm latency over the timed iterations (nanosecond timers, reported in ms). */
export interface LatencyStats {
  count: number;
  minMs: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  sdMs: number;
  /** Coefficient of variation, sdMs / meanMs. */
  cv: number;
}

/** A counter that exists here, or the reason it does not. */
export type EnergyReading =
  | { available: true; source: "rapl" | "nvidia-smi"; scope: string; joules: number; joulesPerInference: number }
  | { available: false; reason: string };

export interface ThroughputPoint {
  /** Size of the swept dimension (batch, or tokens for token inputs). */
  size: number;
  status: "ok" | "failed";
  iterations?: number;
  p50LatencyMs?: number;
  runsPerSec?: number;
  /** runsPerSec × size: samples (or tokens) per second. */
  itemsPerSec?: number;
  error?: string;
}

export type ThroughputSweep =
  | { available: true; axis: string; inputs: "generated"; points: ThroughputPoint[] }
  | { available: false; reason: string };

export interface StabilityCheck {
  cvThreshold: number;
  /** p50 of the second half of the timed runs over p50 of the first half, minus 1. */
  driftRatio: number;
  /** Min-time rule: the mean's relative standard error reached the target before the time cap. */
  converged: boolean;
  /** "high-cv", "drift", "not-converged": why the figures should be read with care. */
  flags: string[];
}

/** The session as the record keeps it: what ran, with which settings (not its tensor specs or memory report). */
export type SessionFacts = Pick<SessionDescription, "runtime" | "runtimeVersion" | "executionProvider" | "requestedProviders" | "intraOpThreads" | "interOpThreads" | "settings">;

export interface InputFacts {
  source: "generated" | "dataset";
  /** Seed of the first generated set (set k uses seed + k). */
  seed?: number;
  dataset?: string;
  sets: number;
  shapes: Record<string, number[]>;
  dtypes: Record<string, string>;
  /** Bytes the input sets hold in the measuring process (part of its peak RSS). */
  totalBytes: number;
}

export interface SuccessfulMeasurement {
  status: "ok";
  repetition: number;
  /** Position of this artifact within its repetition's randomized order. */
  order: number;
  loadMs: number;
  firstInferenceMs: number;
  warmupIterations: number;
  /** Untimed runs for this long after the warm-up runs (absent when none), and how many runs that took. */
  settleMs?: number;
  settleRuns?: number;
  /** The distinct CPU lists the child's threads were allowed, read after timing (Linux; bench's `cpus` pins them). */
  cpusAllowed?: string[];
  stoppingRule: "iterations" | "min-time";
  measuredMs: number;
  latency: LatencyStats;
  stability: StabilityCheck;
  /** Timed runs per second (sequential: one run at a time). */
  runsPerSec: number;
  /** runsPerSec × batch (first dimension of the first input). */
  samplesPerSec: number;
  /** For token-sequence inputs: tokens processed per second. */
  tokensPerSec?: number;
  /**
   * Token-by-token models (llama-cpp): tokens/s decoding one token at a time (llama-bench tg style, no sampling):
   * after settleMs (≥ 1 generation) of untimed generations, timed generations of 32 tokens for the min time
   * (default 1 s), at least 5; timed tokens / their decode time.
   */
  generationTokensPerSec?: number;
  /** How many timed generations that figure is over, and how many untimed ones settled generation before them. */
  generationsTimed?: number;
  settleGenerations?: number;
  sweep: ThroughputSweep;
  concurrency: { measured: false; reason: string };
  peakRssBytes: number;
  rssAfterLoadBytes: number;
  /** peakRssBytes minus the idle child's; absent when the idle child could not be measured. */
  rssIncreaseBytes?: number;
  memorySource: "VmHWM" | "maxRSS";
  energy: { cpu: EnergyReading; gpu: EnergyReading };
  session: SessionFacts;
  inputs: InputFacts;
  childWallMs: number;
}

export interface FailedMeasurement {
  status: "failed";
  repetition: number;
  order: number;
  error: {
    code: string;
    message: string;
    hint?: string;
    exitCode?: number | null;
    signal?: string | null;
    /** Last lines the child wrote to stderr. */
    stderrTail: string;
  };
  childWallMs: number;
}

export type Measurement = SuccessfulMeasurement | FailedMeasurement;

export interface BenchArtifact {
  /** Short label used in tables: the file name, or more of the path when names repeat. */
  label: string;
  path: string;
  format: string;
  sizeBytes: number;
  sha256: string;
}

export interface BenchSummary {
  repetitionsOk: number;
  loadMs: number;
  firstInferenceMs: number;
  /** All timed iterations of all successful repetitions pooled. */
  latency: LatencyStats;
  /** 95 % bootstrap interval of the pooled median. */
  p50CiMs: { low: number; high: number };
  /** (max − min) / median of the per-repetition p50s. */
  p50SpreadRatio: number;
  runsPerSec: number;
  samplesPerSec: number;
  tokensPerSec?: number;
  generationTokensPerSec?: number;
  peakRssBytes: number;
  rssIncreaseBytes?: number;
  /** CPU package (RAPL) plus GPU (nvidia-smi) energy per timed run, mean over repetitions, where counters exist. */
  energyJoulesPerInference?: number;
  /** Any repetition flagged, or repetitions disagreeing by more than the CV threshold. */
  unstable: boolean;
  flags: string[];
}

export interface BenchResult {
  artifact: BenchArtifact;
  runtime: string;
  status: "ok" | "partial" | "failed";
  measurements: Measurement[];
  summary?: BenchSummary;
  /** The summary under the metric catalog's names, for frontiers and gates. */
  metrics: MetricValues;
}

export interface BenchProvenance {
  cpuModel: string;
  logicalCores: number;
  availableParallelism: number;
  totalMemoryBytes: number;
  platform: string;
  arch: string;
  osRelease: string;
  nodeVersion: string;
  edgeforgeVersion: string;
  gitRevision: string | null;
  gitRevisionNote?: string;
  /** 1, 5 and 15 minute load averages when the run started: other work on the machine skews every figure. */
  loadAverage: number[];
  /** Runtime id → package version, for the runtimes this run used. */
  runtimeVersions: Record<string, string>;
}

export interface BenchConfig {
  runtime?: string;
  threads?: number;
  iterations?: number;
  minTimeMs?: number;
  maxTimeMs?: number;
  warmupIterations: number;
  /** Untimed runs for this long after the warm-up runs; absent when none. */
  settleMs?: number;
  repetitions: number;
  seed: number;
  /** CPUs every measuring child was pinned to (cpu-list format); absent when unpinned. */
  cpus?: string;
  cvThreshold: number;
  sweepSizes: number[];
  inputSets: number;
  shapes: Record<string, number[]>;
  inputs?: string;
  timeoutMs: number;
}

/** One model in `bench --compare`: its figures from the side-by-side blocks (absolute, as slow as the machine was). */
export interface SideBySideArmFigures {
  label: string;
  /** p50 of every timed run of every block, pooled. */
  p50Ms: number;
  ratePerSec: number;
  rateUnit: "samples" | "tokens";
  generationTokensPerSec?: number;
  /** What the model costs over a reference process with the same runtime and settings (llama.cpp: its own allocation). */
  modelBytes?: number;
  modelBytesSource?: string;
}

/** `bench --compare`: every model against the first, in alternating blocks in one time window (measureInterleaved). */
export interface BenchSideBySide {
  baseline: string;
  arms: SideBySideArmFigures[];
  /** One per model after the first: baseline p50 / model p50 (> 1 = faster), rate and generation ratios, each with its interval. */
  comparisons: { candidate: string; latencyRatio: RatioEstimate; rateRatio: RatioEstimate; generationRatio?: RatioEstimate }[];
  rounds: number;
  stoppedBecause: string;
  /** How it was measured, in one sentence (blocks, warm-up, threads, pinning, machine load). */
  method: string;
}

export interface BenchRecord {
  schemaVersion: typeof benchSchemaVersion;
  kind: "edgeforge.bench";
  createdAt: string;
  provenance: BenchProvenance;
  config: BenchConfig;
  idleChild: { peakRssBytes: number } | { error: string };
  /** Artifact labels in the order they were measured, per repetition. */
  order: string[][];
  results: BenchResult[];
  /** With `compare`: the models side by side against the first. */
  sideBySide?: BenchSideBySide;
}
