import { fork } from "node:child_process";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { FromWorkerMessage, ToWorkerMessage } from "./worker-protocol.js";

const here = fileURLToPath(import.meta.url);
/** The compiled entry beside this module; from sources (tests, benches) the .ts entry runs through tsx. */
const workerEntry = join(dirname(here), `inference-worker-child${extname(here)}`);
const fromSources = extname(here) === ".ts";

/**
 * "process": a child process per model, so a native crash takes down only that model (tensors are
 * copied through IPC). "thread": a worker thread, large results come through one reused shared
 * buffer (see shared-response.ts), but a native crash ends the whole server.
 */
export type WorkerIsolation = "process" | "thread";

/** The same few operations over a child process or a worker thread. */
export interface WorkerHandle {
  /** OS process id, or the thread id. */
  readonly id: number;
  send(message: ToWorkerMessage): void;
  onMessage(listener: (message: FromWorkerMessage) => void): void;
  onExit(listener: (reason: string) => void): void;
  /** Ask it to finish (IPC closed / thread terminated); resolves when it has. */
  stop(): Promise<void>;
  /** End it at once. */
  kill(): void;
}

function ownsBuffer(bytes: Uint8Array): boolean {
  return bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
}

export function spawnWorker(isolation: WorkerIsolation): WorkerHandle {
  if (isolation === "thread") {
    const worker = fromSources
      ? new Worker(`import("tsx/esm/api").then(({ tsImport }) => tsImport(${JSON.stringify(workerEntry)}, ${JSON.stringify(import.meta.url)}))`, { eval: true })
      : new Worker(workerEntry);
    return {
      id: worker.threadId,
      // A request body the server no longer needs moves to the thread without a copy when it owns its buffer.
      send: (message) => worker.postMessage(message, message.kind === "infer" && message.body instanceof Uint8Array && ownsBuffer(message.body) ? [message.body.buffer as ArrayBuffer] : []),
      onMessage: (listener) => worker.on("message", listener),
      onExit: (listener) => {
        worker.on("error", () => {});
        worker.once("exit", (code) => listener(`worker thread exited (code ${code})`));
      },
      stop: async () => {
        await worker.terminate();
      },
      kill: () => {
        void worker.terminate();
      },
    };
  }
  const child = fork(workerEntry, [], { execArgv: fromSources ? ["--import", "tsx"] : [], serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return {
    id: child.pid ?? 0,
    send: (message) => {
      if (child.connected) child.send(message);
    },
    onMessage: (listener) => child.on("message", listener),
    onExit: (listener) => child.once("exit", (code, signal) => listener(`worker exited (${signal ?? `code ${code}`})`)),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        if (child.connected) child.disconnect();
        else child.kill("SIGTERM");
      }),
    kill: () => {
      child.kill("SIGKILL");
    },
  };
}
