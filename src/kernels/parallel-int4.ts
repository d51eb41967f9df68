import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { allocateInt4Result, quantizeInt4, quantizeInt4Rows, type BlockwiseInt4Options, type BlockwiseInt4Result } from "./blockwise-int4.js";
import type { Int4WorkerTask } from "./int4-worker.js";

/** Below this many weights the split does not pay for the hand-off. */
const minParallelElements = { rtn: 1 << 20, hqq: 1 << 15 } as const;

/** Whether a weight of this many elements is worth splitting across threads. */
export function isWorthParallel(elements: number, method: BlockwiseInt4Options["method"]): boolean {
  return elements >= minParallelElements[method];
}

function sharedFloat32(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * 4));
}

function sharedUint8(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}

/**
 * The worker script: the compiled .js beside this file; when running from the .ts sources (tests,
 * benchmarks under tsx) a bootstrap registers tsx's loader in the worker first.
 */
function spawnWorker(): Worker {
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL("./int4-worker.js", import.meta.url));
  const script = new URL("./int4-worker.ts", import.meta.url).href;
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(script)}); });`;
  return new Worker(bootstrap, { eval: true });
}

function nextMessage(worker: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      worker.off("message", onMessage);
      reject(error);
    };
    const onMessage = () => {
      worker.off("error", onError);
      resolve();
    };
    worker.once("message", onMessage);
    worker.once("error", onError);
  });
}

/**
 * Worker threads for 4-bit blockwise quantization: a weight B [K, N] is split by rows of N, the
 * calling thread taking one share; weight and results live in SharedArrayBuffers (no copies).
 * Output is identical to quantizeInt4. Start once per pass run (workers take time to start), close after.
 */
export class Int4WorkerPool {
  private constructor(private readonly workers: Worker[]) {}

  /** `threads` counts the calling thread: 2 starts one worker. */
  static async start(threads = availableParallelism()): Promise<Int4WorkerPool> {
    const workers = Array.from({ length: Math.max(0, threads - 1) }, spawnWorker);
    await Promise.all(workers.map(nextMessage));
    return new Int4WorkerPool(workers);
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  async quantize(weight: Float32Array, k: number, n: number, options: BlockwiseInt4Options): Promise<BlockwiseInt4Result> {
    const threads = Math.min(this.threads, n);
    if (threads <= 1 || !isWorthParallel(weight.length, options.method)) return quantizeInt4(weight, k, n, options);
    const weightT = sharedFloat32(k * n);
    for (let row = 0; row < k; row++) for (let col = 0; col < n; col++) weightT[col * k + row] = weight[row * n + col]!;
    const local = allocateInt4Result(k, n, options);
    const result: BlockwiseInt4Result = {
      ...local,
      packed: sharedUint8(local.packed.length),
      scales: sharedFloat32(local.scales.length),
      ...(local.zeroPoints ? { zeroPoints: sharedUint8(local.zeroPoints.length) } : {}),
      ...(local.floatZeroPoints ? { floatZeroPoints: sharedFloat32(local.floatZeroPoints.length) } : {}),
    };
    const rowsPer = Math.ceil(n / threads);
    const pending = this.workers.slice(0, threads - 1).map((worker, i) => {
      const done = nextMessage(worker);
      const task: Int4WorkerTask = { weightT, result, options, rowStart: (i + 1) * rowsPer, rowEnd: Math.min(n, (i + 2) * rowsPer) };
      worker.postMessage(task);
      return done;
    });
    quantizeInt4Rows(weightT, result, options, 0, Math.min(n, rowsPer));
    await Promise.all(pending);
    return result;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
