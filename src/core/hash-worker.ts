import { Worker } from "node:worker_threads";
import { fileError } from "./errors.js";

/**
 * The worker's code, plain CommonJS (evaluated, so it runs the same from src/ under tsx and from
 * dist/): hashes a file through one reused 256 KiB buffer (it stays in the core's L2 cache, where 1 MiB
 * hashed 6 % slower here), stopping when the job's flag is set.
 */
const workerSource = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { openSync, readSync, closeSync } = require("node:fs");
const buffer = Buffer.allocUnsafe(1 << 18);
parentPort.on("message", ({ id, path, fd: openFd, cancel }) => {
  const cancelled = new Int32Array(cancel);
  try {
    const hash = createHash("sha256");
    const fd = openFd ?? openSync(path, "r");
    try {
      for (let position = 0; ; ) {
        if (Atomics.load(cancelled, 0) !== 0) return parentPort.postMessage({ id, cancelled: true });
        const bytesRead = readSync(fd, buffer, 0, buffer.length, position);
        if (bytesRead === 0) break;
        hash.update(buffer.subarray(0, bytesRead));
        position += bytesRead;
      }
    } finally {
      if (openFd === undefined) closeSync(fd);
    }
    parentPort.postMessage({ id, digest: hash.digest("hex") });
  } catch (error) {
    parentPort.postMessage({ id, error: { code: error.code, message: String(error.message) } });
  }
});
`;

interface Reply {
  id: number;
  digest?: string;
  cancelled?: boolean;
  error?: { code?: string; message: string };
}

interface Job {
  path: string;
  resolve: (digest: string) => void;
  reject: (error: unknown) => void;
}

/**
 * One worker per process, started on first use and kept (unreferenced while idle, so it never keeps
 * the process alive): starting a worker costs ~50 ms here, more than hashing a mid-sized model.
 */
let worker: Worker | undefined;
const jobs = new Map<number, Job>();
let nextId = 0;

/** The worker `failed` died: its jobs fail, and the next job starts a new one (its own "error" then "exit" count once). */
function failAll(failed: Worker, error: unknown): void {
  if (worker !== failed) return;
  worker = undefined;
  const pending = [...jobs.values()];
  jobs.clear();
  for (const job of pending) job.reject(fileError(error, job.path, "read"));
}

function hashWorker(): Worker {
  if (worker) return worker;
  const started = new Worker(workerSource, { eval: true, execArgv: [] });
  started.on("message", (reply: Reply) => {
    const job = jobs.get(reply.id);
    if (!job) return;
    jobs.delete(reply.id);
    if (jobs.size === 0) started.unref();
    if (reply.digest !== undefined) job.resolve(reply.digest);
    else if (reply.error) job.reject(fileError(Object.assign(new Error(reply.error.message), { code: reply.error.code }), job.path, "read"));
  });
  started.on("error", (error) => failAll(started, error));
  started.on("exit", (code) => failAll(started, new Error(`the hashing worker exited with code ${code}`)));
  worker = started;
  return started;
}

/**
 * A file's sha256 computed on another thread, so that a pass can hash its input while it reads and
 * rewrites it (SHA-256 runs at ~1.7 GB/s with SHA-NI: on one thread it alone caps a pass at that).
 * Same digest as `hashFileSha256`. Aborting rejects at once and stops the worker's read loop.
 * `file` is a path, or a descriptor open for reading (read from its start, left open: the caller
 * closes it once the promise settles), for a file that may be renamed meanwhile.
 */
export function hashFileSha256InWorker(file: string | { fd: number; path: string }, signal?: AbortSignal): Promise<string> {
  const path = typeof file === "string" ? file : file.path;
  signal?.throwIfAborted();
  const id = nextId++;
  const cancel = new SharedArrayBuffer(4);
  return new Promise<string>((resolve, reject) => {
    const onAbort = (): void => {
      Atomics.store(new Int32Array(cancel), 0, 1);
      jobs.delete(id);
      if (jobs.size === 0) worker?.unref();
      reject(signal!.reason);
    };
    const settle = <T>(finish: (value: T) => void) => (value: T): void => {
      signal?.removeEventListener("abort", onAbort);
      finish(value);
    };
    jobs.set(id, { path, resolve: settle(resolve), reject: settle(reject) });
    signal?.addEventListener("abort", onAbort, { once: true });
    const started = hashWorker();
    started.ref();
    started.postMessage({ id, path, ...(typeof file === "string" ? {} : { fd: file.fd }), cancel });
  });
}
