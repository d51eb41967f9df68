import { type Command, InvalidArgumentError, Option } from "commander";
import { writeFileAtomic } from "../../core/atomic-write.js";
import { parseShapeOverrides } from "../../core/shapes.js";
import { benchFormats, benchmark, benchOutcome, parseCpuList, readInputValues, renderBench, runtimeIds, type BenchFormat } from "../../api/bench.js";
import { exitCodes } from "../exit-codes.js";
import { collect, parsePositiveInt } from "../options.js";
import { createStderrProgress, printHuman, printJson, stderrLogger } from "../output.js";

interface BenchFlags {
  runtime?: string;
  threads?: number;
  interOpThreads?: number;
  ep?: string[];
  graphOpt?: "disabled" | "basic" | "extended" | "all";
  executionMode?: "sequential" | "parallel";
  memArena: boolean;
  memPattern: boolean;
  ctx?: number;
  batch?: number;
  shape: string[];
  inputValues?: string;
  inputs?: string;
  preprocess?: string;
  maxSamples?: number;
  iterations?: number;
  minTimeMs?: number;
  maxTimeMs?: number;
  warmup?: number;
  settleMs?: number;
  repetitions?: number;
  seed?: number;
  cvThreshold?: number;
  sweep?: number[];
  sweepIterations?: number;
  inputSets?: number;
  timeoutMs?: number;
  cpus?: number[];
  format: BenchFormat;
  output?: string;
  json?: boolean;
  compare?: boolean;
}

function parseNonNegativeInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError("expected a non-negative integer");
  return parsed;
}

function parsePositiveNumber(value: string): number {
  const parsed = Number(value);
  if (!(parsed > 0) || !Number.isFinite(parsed)) throw new InvalidArgumentError("expected a positive number");
  return parsed;
}

function parseSizes(value: string): number[] {
  if (value === "none") return [];
  const sizes = value.split(",").map((part) => Number(part.trim()));
  if (sizes.some((size) => !Number.isInteger(size) || size <= 0)) throw new InvalidArgumentError('expected comma-separated positive integers, or "none"');
  return sizes;
}

function parseList(value: string): string[] {
  return value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

function parseCpus(value: string): number[] {
  try {
    const cpus = parseCpuList(value);
    if (cpus.length === 0) throw new InvalidArgumentError("expected CPUs as in /proc, e.g. 0 or 0-1,3");
    return cpus;
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error;
    throw new InvalidArgumentError("expected CPUs as in /proc, e.g. 0 or 0-1,3");
  }
}

export function registerBenchCommand(program: Command): void {
  program
    .command("bench")
    .description("Measure models, each in its own process: load, first-run and warm latency, throughput, memory, energy")
    .argument("<models...>", "model files (.onnx on ort/openvino, .gguf on llama-cpp)")
    .addOption(new Option("--runtime <id>", "engine (default: by format)").choices([...runtimeIds]))
    .option("--threads <n>", "compute threads (ORT intra-op, llama.cpp threads)", parsePositiveInt)
    .option("--inter-op-threads <n>", "ORT inter-op threads (parallel execution mode)", parsePositiveInt)
    .option("--ep <list>", "execution providers to try in order, e.g. cuda,cpu (ORT) or GPU,CPU (OpenVINO)", parseList)
    .addOption(new Option("--graph-opt <level>", "ORT graph optimization level").choices(["disabled", "basic", "extended", "all"]))
    .addOption(new Option("--execution-mode <mode>", "ORT execution mode").choices(["sequential", "parallel"]))
    .option("--no-mem-arena", "disable ORT's CPU memory arena")
    .option("--no-mem-pattern", "disable ORT's memory pattern (with --no-mem-arena: optimize's -noarena candidates)")
    .option("--ctx <tokens>", "llama.cpp context size", parsePositiveInt)
    .option("--batch <tokens>", "llama.cpp batch size", parsePositiveInt)
    .option("--shape <name=DxD...>", "fix an input shape, or a symbolic dimension (batch=4) (repeatable)", collect, [])
    .option("--input-values <file>", "JSON overrides for generated input values, e.g. {\"sr\": 16000}")
    .option("--inputs <data>", "real inputs: an image folder (with --preprocess or dataset.json), .npy folder, or .json/.jsonl file")
    .option("--preprocess <file>", "dataset spec or image preprocessing spec (JSON)")
    .option("--max-samples <n>", "dataset samples to use (default 32)", parsePositiveInt)
    .option("--iterations <n>", "timed runs per repetition (fixed count)", parsePositiveInt)
    .option("--min-time-ms <ms>", "time each repetition at least this long, until the mean is within 1% (default 1000)", parsePositiveNumber)
    .option("--max-time-ms <ms>", "upper bound for the min-time rule (default 5 × min time)", parsePositiveNumber)
    .option("--warmup <n>", "untimed runs after the first inference (default 5)", parseNonNegativeInt)
    .option("--settle-ms <ms>", "then untimed runs for this long before timing (GGUF: untimed generations too, before timing generation), as optimize's arms (1000) (default 0)", parseNonNegativeInt)
    .option("--repetitions <n>", "rounds over all models, each in a fresh process and random order (default 1)", parsePositiveInt)
    .option("--seed <n>", "seed for generated inputs and the measurement order (default 1)", parseNonNegativeInt)
    .option("--cv-threshold <ratio>", "flag results whose CV, drift or p50 spread exceeds this (default 0.1)", parsePositiveNumber)
    .option("--sweep <sizes>", "throughput sweep over the leading input dimension, e.g. 1,2,4,8, or none", parseSizes)
    .option("--sweep-iterations <n>", "timed runs per sweep size (default 10)", parsePositiveInt)
    .option("--input-sets <n>", "distinct generated input sets cycled through the runs (default 4)", parsePositiveInt)
    .option("--timeout-ms <ms>", "kill a measuring process after this long (default 600000)", parsePositiveInt)
    .option("--cpus <list>", "pin every measuring process to these CPUs (Linux, taskset), e.g. 0 or 0-1; for A/B runs by hand, give both models the same CPUs; with --compare, its blocks rotate over these CPUs only", parseCpus)
    .addOption(new Option("--format <format>", "md on stderr; csv, json, jsonl on stdout").choices([...benchFormats]).default("md"))
    .option("--output <file>", "also write the rendering to this file")
    .option("--json", "print the JSON record on stdout (same as --format json)")
    .option("--compare", "then measure every model against the first side by side (alternating blocks in one time window): speed-ups with 95% intervals")
    .action(async (models: string[], flags: BenchFlags) => {
      const format: BenchFormat = flags.json ? "json" : flags.format;
      const settings = {
        ...(flags.threads === undefined ? {} : { threads: flags.threads }),
        ...(flags.interOpThreads === undefined ? {} : { interOpThreads: flags.interOpThreads }),
        ...(flags.ep ? { executionProviders: flags.ep } : {}),
        ...(flags.graphOpt ? { graphOptimizationLevel: flags.graphOpt } : {}),
        ...(flags.executionMode ? { executionMode: flags.executionMode } : {}),
        ...(flags.memArena ? {} : { enableCpuMemArena: false }),
        ...(flags.memPattern ? {} : { enableMemPattern: false }),
        ...(flags.ctx === undefined ? {} : { contextSize: flags.ctx }),
        ...(flags.batch === undefined ? {} : { batchSize: flags.batch }),
      };
      const record = await benchmark({
        models,
        ...(flags.runtime ? { runtime: flags.runtime } : {}),
        settings,
        shapes: parseShapeOverrides(flags.shape),
        ...(flags.inputValues ? { values: await readInputValues(flags.inputValues) } : {}),
        ...(flags.inputs ? { inputs: flags.inputs } : {}),
        ...(flags.preprocess ? { datasetSpecPath: flags.preprocess } : {}),
        ...(flags.maxSamples === undefined ? {} : { maxDatasetSamples: flags.maxSamples }),
        ...(flags.iterations === undefined ? {} : { iterations: flags.iterations }),
        ...(flags.minTimeMs === undefined ? {} : { minTimeMs: flags.minTimeMs }),
        ...(flags.maxTimeMs === undefined ? {} : { maxTimeMs: flags.maxTimeMs }),
        ...(flags.warmup === undefined ? {} : { warmupIterations: flags.warmup }),
        ...(flags.settleMs === undefined ? {} : { settleMs: flags.settleMs }),
        ...(flags.repetitions === undefined ? {} : { repetitions: flags.repetitions }),
        ...(flags.seed === undefined ? {} : { seed: flags.seed }),
        ...(flags.cvThreshold === undefined ? {} : { cvThreshold: flags.cvThreshold }),
        ...(flags.sweep === undefined ? {} : { sweepSizes: flags.sweep }),
        ...(flags.sweepIterations === undefined ? {} : { sweepIterations: flags.sweepIterations }),
        ...(flags.inputSets === undefined ? {} : { inputSets: flags.inputSets }),
        ...(flags.timeoutMs === undefined ? {} : { timeoutMs: flags.timeoutMs }),
        ...(flags.cpus ? { cpus: flags.cpus } : {}),
        ...(flags.compare ? { compare: true } : {}),
        logger: stderrLogger,
        progress: createStderrProgress(),
      });
      const rendered = renderBench(record, format);
      if (flags.output) await writeFileAtomic(flags.output, rendered);
      if (format === "json") printJson(record);
      else if (format === "md") printHuman(rendered);
      else process.stdout.write(rendered);
      const outcome = benchOutcome(record);
      if (outcome === "partial") {
        printHuman("warning: some measurements failed (see failures); the others are reported");
        process.exitCode = exitCodes.partialFailure;
      } else if (outcome === "failed") {
        printHuman("error[MEASUREMENT_FAILED]: every measurement failed (see failures)");
        process.exitCode = exitCodes.error;
      }
    });
}
