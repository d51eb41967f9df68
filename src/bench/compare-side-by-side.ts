import { EdgeforgeError } from "../core/errors.js";
import type { Reporter } from "../core/logger.js";
import type { ShapeOverrides } from "../core/shapes.js";
import type { InputValues } from "../datasets/synthetic-inputs.js";
import type { BenchSideBySide } from "../reports/bench-record.js";
import type { RuntimeSettings } from "../runtimes/runtime-settings.js";
import { measureInterleaved } from "./measure-side-by-side.js";
import type { PlannedArtifact } from "./plan-artifacts.js";

export interface CompareOptions extends Reporter {
  settings: RuntimeSettings;
  shapes: ShapeOverrides;
  values?: InputValues;
  seed: number;
  inputSets: number;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  /** Measure on these CPUs only (`bench --cpus`). */
  cpus?: readonly number[];
}

/**
 * `bench --compare`: every model against the first in alternating blocks in one time window, so the
 * speed-ups hold up on a busy machine; two p50s measured one after another do not.
 */
export async function compareSideBySide(planned: readonly PlannedArtifact[], options: CompareOptions): Promise<BenchSideBySide> {
  const runnable = planned.filter((p): p is Extract<PlannedArtifact, { ok: true }> => p.ok);
  if (!planned[0]?.ok || runnable.length < 2) {
    throw new EdgeforgeError("INVALID_OPTION", "--compare needs the first model and at least one other to load", {
      hint: "the first model is the baseline every other is compared with; see the failures above",
    });
  }
  const arms = runnable.map((p) => ({ label: p.artifact.label, artifactPath: p.artifact.path, format: p.format, runtime: p.runtime, settings: options.settings }));
  options.logger?.info(`comparing side by side against ${arms[0]!.label}: ${arms.length} arms in alternating blocks`);
  const result = await measureInterleaved({
    arms,
    comparisons: arms.slice(1).map((_, index) => ({ baseline: 0, candidate: index + 1 })),
    shapes: options.shapes,
    ...(options.values ? { values: options.values } : {}),
    seed: options.seed,
    inputSets: options.inputSets,
    timeoutMs: options.timeoutMs,
    ...(options.env ? { env: options.env } : {}),
    ...(options.cpus ? { cpus: options.cpus } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return {
    baseline: arms[0]!.label,
    arms: result.arms.map((arm) => ({
      label: arm.label,
      p50Ms: arm.latency.p50Ms,
      ratePerSec: arm.ratePerSec,
      rateUnit: arm.rateUnit,
      ...(arm.generationTokensPerSec === undefined ? {} : { generationTokensPerSec: arm.generationTokensPerSec }),
      ...(arm.memory.modelBytes === undefined ? {} : { modelBytes: arm.memory.modelBytes, modelBytesSource: arm.memory.modelBytesSource ?? "" }),
    })),
    comparisons: result.comparisons.map((c) => ({
      candidate: c.candidate,
      latencyRatio: c.latencyRatio,
      rateRatio: c.rateRatio,
      ...(c.generationRatio ? { generationRatio: c.generationRatio } : {}),
    })),
    rounds: result.rounds,
    stoppedBecause: result.stoppedBecause,
    method: result.method,
  };
}
