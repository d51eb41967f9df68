#!/usr/bin/env node
/**
 * Child-process entry of `edgeforge bench`: one process per measurement, so one model's memory,
 * caches and thread pools never colour another's. Reads a job file, writes a result file.
 */
import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "../core/atomic-write.js";
import { exitWithParent } from "../core/child-call.js";
import { EdgeforgeError } from "../core/errors.js";
import { runReferenceWorkload } from "../runtimes/reference-workload.js";
import type { BenchJob, BlockReply, BlockRequest, BlocksJob, ChildResult } from "./bench-job.js";
import { measureArtifact } from "./measure-artifact.js";
import { readPeakRss } from "./read-peak-rss.js";
import { serveBlocks } from "./serve-blocks.js";

async function runJob(job: Exclude<BenchJob, BlocksJob>): Promise<ChildResult> {
  if (job.mode === "idle") return { ok: true, mode: "idle", peakRssBytes: (await readPeakRss()).bytes };
  if (job.mode === "reference") {
    const workload = await runReferenceWorkload(job.runtime, job.settings);
    const peak = await readPeakRss();
    return { ok: true, mode: "reference", peakRssBytes: peak.bytes, memorySource: peak.source, workload };
  }
  const { measurement, latenciesNs } = await measureArtifact(job);
  return { ok: true, mode: "measure", measurement, latenciesNs };
}

/** Parent messages as an async stream; ends when the parent disconnects. */
async function* parentRequests(): AsyncGenerator<BlockRequest> {
  const queue: BlockRequest[] = [];
  let wake: (() => void) | undefined;
  let open = true;
  process.on("message", (message: BlockRequest) => {
    queue.push(message);
    wake?.();
  });
  // A parent that is gone (finished, killed, timed out) needs nothing more: never linger as an orphan.
  process.on("disconnect", () => {
    open = false;
    wake?.();
    process.exit(0);
  });
  for (;;) {
    const request = queue.shift();
    if (request) {
      yield request;
      continue;
    }
    if (!open) return;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
    wake = undefined;
  }
}

function sendToParent(reply: BlockReply): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(reply, undefined, {}, () => resolve());
  });
}

async function main(): Promise<number> {
  const jobPath = process.argv[2];
  if (!jobPath) {
    process.stderr.write("usage: bench-child JOB.json\n");
    return 2;
  }
  const job = JSON.parse(await readFile(jobPath, "utf8")) as BenchJob;
  if (job.mode === "blocks") {
    await serveBlocks(job, sendToParent, parentRequests());
    process.disconnect?.();
    return 0;
  }
  let result: ChildResult;
  try {
    result = await runJob(job);
  } catch (error) {
    const known = EdgeforgeError.isInstance(error);
    // Expected failures get one line; anything else keeps its stack for the stderr tail.
    process.stderr.write(known ? `error[${error.code}]: ${error.message}\n` : `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    result = {
      ok: false,
      error: {
        code: known ? error.code : "MEASUREMENT_FAILED",
        message: error instanceof Error ? error.message : String(error),
        ...(known && error.hint ? { hint: error.hint } : {}),
      },
    };
  }
  await writeFileAtomic(job.resultPath, JSON.stringify(result));
  // llama.cpp's native library keeps the event loop alive once loaded: the result is written, so leave.
  if (job.mode === "reference") process.exit(result.ok ? 0 : 1);
  return result.ok ? 0 : 1;
}

exitWithParent();
process.exitCode = await main();
