import { spawn } from "node:child_process";
import { access, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { EdgeforgeError } from "../core/errors.js";
import type { BenchJob, ChildResult } from "./bench-job.js";
import { pinnedCommand } from "./cpu-affinity.js";

/** The compiled child entry. Both src/bench and dist/bench sit two levels under the package root. */
export const benchChildPath = fileURLToPath(new URL("../../dist/bench/bench-child.js", import.meta.url));

const stderrTailBytes = 4096;

export interface ChildOutcome {
  result?: ChildResult;
  exitCode: number | null;
  signal: string | null;
  stderrTail: string;
  wallMs: number;
  timedOut: boolean;
}

export async function checkBenchChildBuilt(): Promise<void> {
  try {
    await access(benchChildPath);
  } catch {
    throw new EdgeforgeError("MEASUREMENT_FAILED", `the benchmark child entry ${benchChildPath} is missing`, {
      hint: "build edgeforge first (npm run build): each artifact is measured by the compiled child in its own process",
      details: { path: benchChildPath },
    });
  }
}

/** Keep the last `limit` bytes of a stream. */
function tailCollector(limit: number): { push(chunk: Buffer): void; text(): string } {
  let chunks: Buffer[] = [];
  let size = 0;
  return {
    push(chunk) {
      chunks.push(chunk);
      size += chunk.length;
      if (size > 2 * limit) {
        chunks = [Buffer.concat(chunks).subarray(-limit)];
        size = limit;
      }
    },
    text: () => Buffer.concat(chunks).subarray(-limit).toString("utf8"),
  };
}

/** Run one job in a fresh Node process (`process.execPath` on the compiled child), with a timeout. */
export async function spawnBenchChild(job: BenchJob extends infer J ? (J extends BenchJob ? Omit<J, "resultPath"> : never) : never, options: { timeoutMs: number; signal?: AbortSignal; env?: NodeJS.ProcessEnv; cpus?: readonly number[] }): Promise<ChildOutcome> {
  const folder = await mkdtemp(join(tmpdir(), "edgeforge-bench-"));
  const jobPath = join(folder, "job.json");
  const resultPath = join(folder, "result.json");
  try {
    await writeFile(jobPath, JSON.stringify({ ...job, resultPath }));
    const started = process.hrtime.bigint();
    const stderr = tailCollector(stderrTailBytes);
    let timedOut = false;
    const { exitCode, signal } = await new Promise<{ exitCode: number | null; signal: string | null }>((resolve, reject) => {
      const [command, args] = pinnedCommand(process.execPath, [benchChildPath, jobPath], options.cpus);
      const child = spawn(command, args, {
        stdio: ["ignore", "pipe", "pipe"],
        env: options.env ?? process.env,
      });
      // Native libraries may print to stdout; keep it with stderr for diagnosis.
      child.stdout.on("data", (chunk: Buffer) => stderr.push(chunk));
      child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, options.timeoutMs);
      const onAbort = (): void => {
        child.kill("SIGKILL");
      };
      options.signal?.addEventListener("abort", onAbort, { once: true });
      child.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on("close", (code, sig) => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        resolve({ exitCode: code, signal: sig });
      });
    });
    options.signal?.throwIfAborted();
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    let result: ChildResult | undefined;
    try {
      result = JSON.parse(await readFile(resultPath, "utf8")) as ChildResult;
    } catch {
      result = undefined;
    }
    return { ...(result ? { result } : {}), exitCode, signal, stderrTail: stderr.text(), wallMs, timedOut };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
