import { z } from "zod";
import { EdgeforgeError } from "../core/errors.js";
import { readJsonFile } from "../datasets/dataset-spec.js";
import { refuseVocabularyOnly } from "./refuse-vocabulary-only.js";
import { inputValuesSchema, type InputValues } from "../datasets/synthetic-inputs.js";
import { benchOutcome, runBenchmark, type BenchOptions } from "../bench/run-benchmark.js";
import { parseCpuList } from "../bench/cpu-affinity.js";
import { benchFormats, type BenchFormat } from "../reports/bench-csv.js";
import type { BenchRecord } from "../reports/bench-record.js";
import { renderBench } from "../reports/render-bench.js";
import { requireRuntimeId, runtimeCatalog, runtimeIds } from "../runtimes/catalog.js";

export type { BenchRecord, BenchResult, Measurement, BenchSummary, LatencyStats } from "../reports/bench-record.js";
export type { RuntimeSettings } from "../runtimes/runtime-settings.js";
export { benchFormats, benchOutcome, parseCpuList, renderBench, runtimeCatalog, runtimeIds, type BenchFormat };

export interface BenchmarkOptions extends Omit<BenchOptions, "runtime"> {
  /** "ort", "llama-cpp", "mlx" or "openvino"; default: by each model's format. */
  runtime?: string;
}

/**
 * Measure one or more models, each in its own child process, in seeded random order, and return
 * the one typed record of the run (render it with renderBench).
 */
export async function benchmark(options: BenchmarkOptions): Promise<BenchRecord> {
  const { runtime, ...rest } = options;
  await refuseVocabularyOnly(options.models, "benchmark", options.signal);
  return runBenchmark({ ...rest, ...(runtime === undefined ? {} : { runtime: requireRuntimeId(runtime) }) });
}

/** Read an input-values override file: {"sr": 16000, "h": {"fill": 0}, "x": {"uniform": [0, 1]}}. */
export async function readInputValues(path: string): Promise<InputValues> {
  const parsed = inputValuesSchema.safeParse(await readJsonFile(path));
  if (!parsed.success) {
    throw new EdgeforgeError("INVALID_CONFIG", `${path} is not a valid input-values file: ${z.prettifyError(parsed.error)}`, {
      hint: 'map input names to a number, {"fill": v}, {"data": [...]}, {"uniform": [lo, hi]}, {"normal": [mean, sd]} or {"integers": [lo, hi]}',
      details: { path },
    });
  }
  return parsed.data;
}
