import { EdgeforgeError } from "../core/errors.js";
import { createPayloadFolder, PayloadFile, payloadFileMinBytes, removePayloadFolder, type PayloadPaths } from "./payload-files.js";
import { isSharedBody, leaseSharedBody } from "./shared-response.js";
import { spawnWorker, type WorkerHandle, type WorkerIsolation } from "./spawn-worker.js";
import type { FromWorkerMessage, GeneratedMessage, GenerateMessage, InferResultMessage, InferStatsMessage, LoadMessage, ReadyMessage, ToWorkerMessage, WorkerError } from "./worker-protocol.js";

const maxRestartDelayMs = 30_000;

export type WorkerState = "loading" | "ready" | "failed" | "stopped";

export interface ModelWorkerHooks {
  /** Runs before every load (first start, restart, repository load); a throw keeps the model unloaded. */
  beforeLoad?(): Promise<void>;
  onState(state: WorkerState, detail?: string): void;
  onMemory(rssBytes: number): void;
  onRestart(reason: string): void;
}

/**
 * An infer result whose body is in hand (read back from the payload file into a reused buffer, or a
 * view of the worker thread's shared slot: call `release` once the body has been written out).
 */
export type InferResult = Omit<InferResultMessage, "body"> & { body: Uint8Array[]; release?: () => void; stats: Promise<InferStats> };

/** What the worker sends after a result: the request's confidence and monitored features. */
export type InferStats = Omit<InferStatsMessage, "kind" | "id" | "rssBytes">;

interface Pending {
  resolve(message: InferResultMessage | GeneratedMessage): void;
  reject(error: Error): void;
  onText?: (text: string) => void;
}

function requestError(error: WorkerError): EdgeforgeError {
  const code = error.status === 400 ? "INVALID_SHAPE" : "RUNTIME_FAILED";
  return new EdgeforgeError(code, error.message, { hint: error.status === 400 ? "see the model's metadata for its inputs" : "the runtime failed on this request", details: { workerCode: error.code } });
}

/**
 * One model's worker process: started, loaded, restarted with backoff when it dies unexpectedly
 * (pending requests fail with MODEL_NOT_READY), and stopped on unload or shutdown.
 */
export class ModelWorker {
  state: WorkerState = "stopped";
  info: ReadyMessage | undefined;
  lastError: string | undefined;
  private child: WorkerHandle | undefined;
  private readonly pending = new Map<number, Pending>();
  /** Infer requests whose result is out and whose statistics are still to come. */
  private readonly pendingStats = new Map<number, { resolve(stats: InferStats): void; reject(error: Error): void }>();
  private nextId = 1;
  private consecutiveCrashes = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Process isolation: the files large bodies travel through, kept across restarts, removed on stop. */
  private payload: { paths: PayloadPaths; request: PayloadFile; response: PayloadFile } | undefined;

  constructor(
    private readonly load: Omit<LoadMessage, "kind">,
    private readonly hooks: ModelWorkerHooks,
    private readonly isolation: WorkerIsolation = "process",
  ) {}

  /** The worker's process id (or thread id with thread isolation). */
  get pid(): number | undefined {
    return this.child?.id;
  }

  /** Start the process and load the model; resolves when ready, rejects when loading fails. */
  async start(): Promise<void> {
    clearTimeout(this.restartTimer);
    this.setState("loading");
    try {
      await this.hooks.beforeLoad?.();
    } catch (error) {
      this.lastError = error instanceof Error ? error.message : String(error);
      this.setState("failed", this.lastError);
      throw error;
    }
    const child = spawnWorker(this.isolation);
    this.child = child;
    if (this.isolation === "process" && !this.payload) {
      const paths = createPayloadFolder();
      this.payload = { paths, request: new PayloadFile(paths.requestPath, true), response: new PayloadFile(paths.responsePath, true) };
    }
    const payload = this.payload ? { payload: { requestPath: this.payload.paths.requestPath, responsePath: this.payload.paths.responsePath } } : {};
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      child.onMessage((message: FromWorkerMessage) => {
        if (message.kind === "ready") {
          this.info = message;
          this.consecutiveCrashes = 0;
          this.hooks.onMemory(message.rssBytes);
          this.setState("ready");
          settled = true;
          resolve();
        } else if (message.kind === "load-failed") {
          this.lastError = message.error.message;
          settled = true;
          this.child = undefined;
          child.kill();
          this.setState("failed", message.error.message);
          reject(new EdgeforgeError("RUNTIME_FAILED", `model ${this.load.name} failed to load: ${message.error.message}`, { hint: "check the model file with edgeforge inspect", details: { model: this.load.name, path: this.load.path } }));
        } else {
          this.onReply(message);
        }
      });
      child.onExit((reason) => {
        if (this.child !== child) return;
        this.child = undefined;
        this.failPending(new EdgeforgeError("MODEL_NOT_READY", `model ${this.load.name}: ${reason} during the request; it is restarting`, { hint: "retry the request" }));
        if (!settled) {
          settled = true;
          this.setState("failed", reason);
          reject(new EdgeforgeError("RUNTIME_FAILED", `model ${this.load.name}: ${reason} while loading`, { hint: "check the model file with edgeforge inspect" }));
          return;
        }
        this.lastError = reason;
        this.consecutiveCrashes += 1;
        this.hooks.onRestart(reason);
        this.setState("loading", reason);
        const delayMs = Math.min(maxRestartDelayMs, 250 * 2 ** (this.consecutiveCrashes - 1));
        this.restartTimer = setTimeout(() => {
          this.start().catch(() => {});
        }, delayMs);
      });
      child.send({ kind: "load", ...this.load, ...payload } satisfies LoadMessage);
    });
  }

  async infer(body: Uint8Array, headerLength: number | undefined): Promise<InferResult> {
    const payload = this.payload;
    let stats: Promise<InferStats> | undefined;
    const result = (await this.request((id) => {
      stats = new Promise<InferStats>((resolve, reject) => this.pendingStats.set(id, { resolve, reject }));
      // A request that fails or times out leaves its statistics unread.
      stats.catch(() => {});
      // One request at a time per worker (the queue's single slot), so the request file is free here.
      // A message carries a body's whole buffer, so a view into a larger (pooled) one goes as a copy of its own.
      const sent = payload && body.byteLength >= payloadFileMinBytes ? { inFileBytes: payload.request.write([body]) } : body.byteLength === body.buffer.byteLength ? body : Uint8Array.prototype.slice.call(body);
      return { kind: "infer", id, body: sent, ...(headerLength === undefined ? {} : { headerLength }) };
    })) as InferResultMessage;
    if (Array.isArray(result.body)) return { ...result, body: result.body, stats: stats! };
    if (isSharedBody(result.body)) {
      const { pieces, release } = leaseSharedBody(result.body);
      return { ...result, body: pieces, release, stats: stats! };
    }
    const { bytes, release } = payload!.response.readLeased(result.body.inFileBytes);
    return { ...result, body: [bytes], release, stats: stats! };
  }

  generate(message: Omit<GenerateMessage, "kind" | "id">, onText: (text: string) => void, signal: AbortSignal): Promise<GeneratedMessage> {
    return this.request((id) => ({ kind: "generate", id, ...message }), onText, signal) as Promise<GeneratedMessage>;
  }

  /** Stop the process (unload or shutdown); pending requests fail. */
  async stop(): Promise<void> {
    clearTimeout(this.restartTimer);
    const child = this.child;
    this.child = undefined;
    this.setState("stopped");
    this.failPending(new EdgeforgeError("MODEL_NOT_READY", `model ${this.load.name} was unloaded`, { hint: "load it again (POST /v2/repository/models/{name}/load)" }));
    await child?.stop();
    if (this.payload) {
      this.payload.request.close();
      this.payload.response.close();
      removePayloadFolder(this.payload.paths);
      this.payload = undefined;
    }
  }

  private request(build: (id: number) => object, onText?: (text: string) => void, signal?: AbortSignal): Promise<InferResultMessage | GeneratedMessage> {
    const child = this.child;
    if (this.state !== "ready" || !child) {
      return Promise.reject(new EdgeforgeError("MODEL_NOT_READY", `model ${this.load.name} is ${this.state}`, { hint: "retry when GET /v2/models/{name}/ready answers 200" }));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        child.send({ kind: "cancel", id });
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const done = (): void => {
        signal?.removeEventListener("abort", onAbort);
        this.pending.delete(id);
      };
      this.pending.set(id, {
        resolve: (message) => {
          done();
          if (message.kind === "generated") this.hooks.onMemory(message.rssBytes);
          resolve(message);
        },
        reject: (error) => {
          done();
          reject(error);
        },
        ...(onText ? { onText } : {}),
      });
      child.send(build(id) as ToWorkerMessage);
    });
  }

  private onReply(message: Exclude<FromWorkerMessage, ReadyMessage | { kind: "load-failed" }>): void {
    if (message.kind === "infer-stats") {
      this.hooks.onMemory(message.rssBytes);
      const waiting = this.pendingStats.get(message.id);
      this.pendingStats.delete(message.id);
      waiting?.resolve({ ...(message.confidence === undefined ? {} : { confidence: message.confidence }), ...(message.features === undefined ? {} : { features: message.features }) });
      return;
    }
    if (message.kind === "request-failed") this.pendingStats.delete(message.id);
    const pending = this.pending.get(message.id);
    if (!pending) return;
    if (message.kind === "text") pending.onText?.(message.text);
    else if (message.kind === "request-failed") pending.reject(requestError(message.error));
    else pending.resolve(message);
  }

  private failPending(error: Error): void {
    for (const pending of [...this.pending.values()]) pending.reject(error);
    this.pending.clear();
    for (const waiting of [...this.pendingStats.values()]) waiting.reject(error);
    this.pendingStats.clear();
  }

  private setState(state: WorkerState, detail?: string): void {
    this.state = state;
    this.hooks.onState(state, detail);
  }
}
