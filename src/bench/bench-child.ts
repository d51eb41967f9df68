#!/usr/bin/env node
/**
 * Child-process entry of `edgeforge bench`: one process per measurement, so one model's memory,
 * caches and thread pools never colour another's. Reads a job file, writes a result file.
 */
import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "../core/atomic-write.js";
import { EdgeforgeError } from "../core/errors.js";
import type { BenchJob, ChildResult } from "./bench-job.js";
import { measureArtifact } from "./measure-artifact.js";
import { readPeakRss } from "./read-peak-rss.js";

async function runJob(job: BenchJob): Promise<ChildResult> {
  if (job.mode === "idle") return { ok: true, mode: "idle", peakRssBytes: (await readPeakRss()).bytes };
  const { measurement, latenciesNs } = await measureArtifact(job);
  return { ok: true, mode: "measure", measurement, latenciesNs };
}

async function main(): Promise<number> {
  const jobPath = process.argv[2];
  if (!jobPath) {
    process.stderr.write("usage: bench-child JOB.json\n");
    return 2;
  }
  const job = JSON.parse(await readFile(jobPath, "utf8")) as BenchJob;
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
  return result.ok ? 0 : 1;
}

process.exitCode = await main();
