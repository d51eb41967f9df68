import { EdgeforgeError } from "../core/errors.js";
import type { Session } from "../core/session.js";
import type { SessionFacts } from "../reports/bench-record.js";
import { openRuntimeSession } from "../runtimes/catalog.js";
import type { ChildMeasurement, MeasureJob } from "./bench-job.js";
import { batchSizeOf, prepareInputs, tokensPerRun } from "./bench-inputs.js";
import { measureEnergy, probeNvidiaSmi, probeRapl } from "./energy-counters.js";
import { readThreadAffinities } from "./cpu-affinity.js";
import { readPeakRss } from "./read-peak-rss.js";
import { sweepThroughput } from "./throughput-sweep.js";
import { generationTimer, timeGenerations } from "./time-generation.js";
import { checkStability, latencyStats, settleRuns, timeRuns } from "./time-runs.js";

function concurrencyReason(runtime: string): string {
  return runtime === "ort"
    ? "not measured: onnxruntime-node runs each inference synchronously on the JS thread, so concurrent run() calls in one process serialize; the sweep measures batching instead"
    : "not measured: a session serves one request at a time; the sweep measures batching (or tokens per run) instead";
}

function sessionFacts(session: Session): SessionFacts {
  const d = session.describe();
  return {
    runtime: d.runtime,
    runtimeVersion: d.runtimeVersion,
    executionProvider: d.executionProvider,
    requestedProviders: d.requestedProviders,
    ...(d.intraOpThreads === undefined ? {} : { intraOpThreads: d.intraOpThreads }),
    ...(d.interOpThreads === undefined ? {} : { interOpThreads: d.interOpThreads }),
    settings: d.settings,
  };
}

/** Timed generations at least, whatever the time rule (with it, ≥ 1 s of generating by default). */
const minGenerations = 5;

/**
 * Token-by-token models: llama-bench-style tg. Untimed generations for `settleMs` (at least one: decode settles
 * apart from prompt runs, docs/decide.md seventh run), then timed generations for the timed runs' minimum time
 * (default 1 s), at least 5; tokens/s = timed tokens / their decode time, as optimize's side-by-side blocks.
 */
async function measureGeneration(session: Session, inputs: Parameters<typeof generationTimer>[1], job: MeasureJob): Promise<{ tokensPerSec: number; generations: number; settleGenerations: number } | undefined> {
  const generation = generationTimer(session, inputs);
  if (!generation) return undefined;
  const settleGenerations = await settleRuns(() => generation(), job.settleMs, undefined, 1);
  const timed = await timeGenerations(generation, { minTimeMs: job.stopping.minTimeMs ?? 1000, minGenerations });
  return { tokensPerSec: timed.tokens / (timed.ns / 1e9), generations: timed.generations, settleGenerations };
}

/**
 * Everything one child measures for one artifact, in order: load, first inference, warm-up runs,
 * `settleMs` of untimed runs, timed runs (with energy counters around them), the throughput sweep,
 * then peak memory.
 */
export async function measureArtifact(job: MeasureJob): Promise<{ measurement: ChildMeasurement; latenciesNs: number[] }> {
  const clock = (): bigint => process.hrtime.bigint();
  const loadStarted = clock();
  const session = (await openRuntimeSession(job.runtime, job.artifactPath, job.format, job.settings)) as Session & { vocabularySize?: number };
  const loadNs = Number(clock() - loadStarted);
  try {
    const rssAfterLoadBytes = process.memoryUsage.rss();
    const specs = session.describe().inputs;
    const prepared = await prepareInputs(session, job);
    const sets = prepared.sets;
    const setAt = (index: number) => sets[index % sets.length] as (typeof sets)[number];

    const firstStarted = clock();
    await session.run(setAt(0));
    const firstInferenceNs = Number(clock() - firstStarted);
    for (let i = 0; i < job.warmupIterations; i += 1) await session.run(setAt(i + 1));
    const settledRuns = await settleRuns((i) => session.run(setAt(i)), job.settleMs);

    // Counters are read just outside the timed loop: CPU package (RAPL) around GPU (nvidia-smi) around the runs.
    const [rapl, nvidia] = await Promise.all([probeRapl(), probeNvidiaSmi()]);
    const timedLoop = () => timeRuns((i) => session.run(setAt(i)), job.stopping);
    const withGpu = () => measureEnergy(nvidia, timedLoop, (t) => t.latenciesNs.length);
    const cpu = await measureEnergy(rapl, withGpu, (r) => r.result.latenciesNs.length);
    const { result: timed, reading: gpuEnergy } = cpu.result;
    if (timed.latenciesNs.length === 0) {
      throw new EdgeforgeError("MEASUREMENT_FAILED", "no timed runs completed", { hint: "raise --iterations or --min-time-ms" });
    }
    const runsPerSec = timed.latenciesNs.length / (timed.measuredNs / 1e9);
    const tokens = tokensPerRun(specs, setAt(0));
    const sweep = await sweepThroughput(session, job, setAt(0), session.vocabularySize);
    const generation = await measureGeneration(session, setAt(0), job);
    const peak = await readPeakRss();
    const cpusAllowed = await readThreadAffinities();
    return {
      latenciesNs: timed.latenciesNs,
      measurement: {
        loadMs: loadNs / 1e6,
        firstInferenceMs: firstInferenceNs / 1e6,
        warmupIterations: job.warmupIterations,
        ...(job.settleMs > 0 ? { settleMs: job.settleMs, settleRuns: settledRuns } : {}),
        ...(cpusAllowed ? { cpusAllowed } : {}),
        stoppingRule: timed.rule,
        measuredMs: timed.measuredNs / 1e6,
        latency: latencyStats(timed.latenciesNs),
        stability: checkStability(timed, job.cvThreshold),
        runsPerSec,
        samplesPerSec: runsPerSec * batchSizeOf(specs, setAt(0)),
        ...(tokens === undefined ? {} : { tokensPerSec: runsPerSec * tokens }),
        ...(generation === undefined ? {} : { generationTokensPerSec: generation.tokensPerSec, generationsTimed: generation.generations, settleGenerations: generation.settleGenerations }),
        sweep,
        concurrency: { measured: false, reason: concurrencyReason(session.describe().runtime) },
        peakRssBytes: peak.bytes,
        rssAfterLoadBytes,
        memorySource: peak.source,
        energy: { cpu: cpu.reading, gpu: gpuEnergy },
        session: sessionFacts(session),
        inputs: prepared.facts,
      },
    };
  } finally {
    await session.close();
  }
}
