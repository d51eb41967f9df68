import type { Session } from "../core/session.js";
import type { NamedTensors } from "../core/tensor.js";
import { generateInputs } from "../datasets/synthetic-inputs.js";
import type { ThroughputPoint, ThroughputSweep } from "../reports/bench-record.js";
import type { MeasureJob } from "./bench-job.js";
import { timeRuns } from "./time-runs.js";
import { describeSamples } from "../stats/describe-samples.js";

/**
 * Throughput at several sizes of the first input's leading symbolic dimension (the batch, or
 * the token count of a token sequence), on generated inputs of each size. Every input that
 * shares that dimension's symbol is resized with it.
 */
export async function sweepThroughput(session: Session, job: MeasureJob, reference: NamedTensors, vocabularySize?: number): Promise<ThroughputSweep> {
  if (job.sweepSizes.length === 0) return { available: false, reason: "no sweep sizes requested" };
  const specs = session.describe().inputs;
  const first = specs[0];
  const axis = first?.shape[0];
  // The reference set fixed every dimension; the sweep only changes the leading symbol.
  if (!first || typeof axis !== "string") {
    return { available: false, reason: first ? `input "${first.name}" has no symbolic leading dimension to sweep` : "the model has no inputs" };
  }
  const points: ThroughputPoint[] = [];
  for (const size of job.sweepSizes) {
    const shapes = Object.fromEntries(
      specs.map((spec) => [spec.name, (reference[spec.name]?.dims ?? []).map((dim, index) => (spec.shape[index] === axis ? size : dim))]),
    );
    try {
      const inputs = generateInputs(specs, {
        seed: job.seed,
        shapes,
        ...(job.values ? { values: job.values } : {}),
        ...(vocabularySize ? { vocabularySize } : {}),
      });
      for (let i = 0; i < 2; i += 1) await session.run(inputs);
      const timed = await timeRuns(() => session.run(inputs), { iterations: job.sweepIterations });
      const runsPerSec = timed.latenciesNs.length / (timed.measuredNs / 1e9);
      points.push({
        size,
        status: "ok",
        iterations: timed.latenciesNs.length,
        p50LatencyMs: describeSamples(timed.latenciesNs).p50 / 1e6,
        runsPerSec,
        itemsPerSec: runsPerSec * size,
      });
    } catch (error) {
      points.push({ size, status: "failed", error: error instanceof Error ? error.message.split("\n")[0] : String(error) });
    }
  }
  return { available: true, axis, inputs: "generated", points };
}
