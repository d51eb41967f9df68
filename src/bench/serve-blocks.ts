import { EdgeforgeError } from "../core/errors.js";
import type { Session } from "../core/session.js";
import { openRuntimeSession } from "../runtimes/catalog.js";
import type { BlockReply, BlockRequest, BlocksJob } from "./bench-job.js";
import { batchSizeOf, prepareInputs, tokensPerRun } from "./bench-inputs.js";
import { readThreadAffinities } from "./cpu-affinity.js";
import { readPeakRss } from "./read-peak-rss.js";
import { generationTimer, timeGenerations, type TimedGenerations } from "./time-generation.js";
import { settleRuns, timeRuns } from "./time-runs.js";

function errorReply(error: unknown): BlockReply {
  const known = EdgeforgeError.isInstance(error);
  return {
    type: "error",
    error: {
      code: known ? error.code : "MEASUREMENT_FAILED",
      message: error instanceof Error ? error.message : String(error),
      ...(known && error.hint ? { hint: error.hint } : {}),
    },
  };
}

/**
 * The child side of a side-by-side measurement: load, first inference, warm-up, then one timed
 * block per "block" message until "finish", which answers with the process's peak RSS. Replies go
 * over the IPC channel, so a runtime printing to stdout cannot corrupt them.
 */
export async function serveBlocks(job: BlocksJob, send: (reply: BlockReply) => Promise<void>, requests: AsyncIterable<BlockRequest>): Promise<void> {
  let session: Session | undefined;
  try {
    const loadStarted = process.hrtime.bigint();
    session = await openRuntimeSession(job.runtime, job.artifactPath, job.format, job.settings);
    const loadMs = Number(process.hrtime.bigint() - loadStarted) / 1e6;
    const rssAfterLoadBytes = process.memoryUsage.rss();
    const live = session;
    const prepared = await prepareInputs(live, { ...job, mode: "measure", stopping: {}, cvThreshold: 1, sweepSizes: [], sweepIterations: 0 });
    const sets = prepared.sets;
    const setAt = (index: number) => sets[index % sets.length] as (typeof sets)[number];
    const firstStarted = process.hrtime.bigint();
    await live.run(setAt(0));
    const firstInferenceMs = Number(process.hrtime.bigint() - firstStarted) / 1e6;
    for (let i = 0; i < job.warmupIterations; i += 1) await live.run(setAt(i + 1));
    // A few warm-up runs are not always warm: PP-OCRv4 det fp16 without the arena ran its first ~15 runs after
    // them up to 2–3× slower (bench:verdict). Alone, before any block, each arm settles for a while of untimed
    // runs (bench:verdict's A/B settles as long, so both time the same state).
    const settledRuns = await settleRuns((i) => live.run(setAt(i)), job.settleMs);
    const d = live.describe();
    const tokens = tokensPerRun(d.inputs, setAt(0));
    const generation = generationTimer(live, setAt(0));
    // Decode settles apart from prompt runs: 1-thread llama.cpp decode ran 0.7–2.9 ms/token in its first ~1 s of
    // generating and 0.4–0.6 after, settled prompt runs or not (docs/decide.md, seventh run). So generation
    // settles as long again, untimed, before the first block (bench's A/B does the same).
    const settleGenerations = generation ? await settleRuns(() => generation(), job.settleMs, undefined, 1) : undefined;
    await send({
      type: "ready",
      loadMs,
      firstInferenceMs,
      rssAfterLoadBytes,
      runtime: d.runtime,
      runtimeVersion: d.runtimeVersion,
      executionProvider: d.executionProvider,
      settings: { ...d.settings, ...(d.intraOpThreads === undefined ? {} : { threads: d.intraOpThreads }) },
      samplesPerRun: batchSizeOf(d.inputs, setAt(0)),
      ...(tokens === undefined ? {} : { tokensPerRun: tokens }),
      ...(d.memory ? { runtimeMemory: d.memory } : {}),
      settleRuns: settledRuns,
      ...(settleGenerations === undefined ? {} : { settleGenerations }),
    });
    let next = 0;
    for await (const request of requests) {
      if (request.type === "finish") break;
      // The switch from another arm's block leaves caches (and thread-pool wake-ups) cold: its first one or
      // two runs are slower, more so without the arena (bench:verdict). Re-warm untimed, as `edgeforge bench`
      // times only after its warm-up, so a block measures the same warm latency.
      const from = next;
      next += await settleRuns((i) => live.run(setAt(from + i)), request.warmupMs, undefined, 1);
      // Time-based blocks: each arm gets the same slice of wall time, whatever its speed.
      const timed = await timeRuns((i) => live.run(setAt(next + i)), { minTimeMs: request.minTimeMs, maxTimeMs: request.minTimeMs, minIterations: request.minRuns, targetRelativeError: Number.POSITIVE_INFINITY });
      next += timed.latenciesNs.length;
      // Token-by-token models then time generation in the same block (paired in time too), re-warmed as the runs
      // were, over several generations: one 32-token burst per block swung the ratio ±30 % (docs/decide.md).
      let generated: TimedGenerations | undefined;
      if (generation) {
        await settleRuns(() => generation(), request.warmupMs, undefined, 1);
        generated = await timeGenerations(generation, { minTimeMs: request.minTimeMs, minGenerations: request.minGenerations });
      }
      // Read after timing: where the block ran (the parent pins arms), so a report can show it.
      const affinity = await readThreadAffinities();
      await send({ type: "block", latenciesNs: timed.latenciesNs, wallNs: timed.measuredNs, ...(generated ? { generation: generated } : {}), ...(affinity ? { affinity } : {}) });
    }
    const peak = await readPeakRss();
    await send({ type: "done", peakRssBytes: peak.bytes, memorySource: peak.source });
  } catch (error) {
    await send(errorReply(error));
  } finally {
    await session?.close();
  }
}
