import { verifyServedModel, type ServeConfig, type ServedModelSpec } from "../api/serve.js";
import { EdgeforgeError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { ModelMonitor } from "../monitor/model-monitor.js";
import { ModelWorker } from "./model-worker.js";
import { RequestQueue } from "./request-queue.js";
import type { ServerMetrics } from "./server-metrics.js";
import { pickVersion, type TrafficSplit } from "./traffic-split.js";

/** A model as the server offers it: its worker process, its bounded queue and its metric labels. */
export interface ServedModel {
  spec: ServedModelSpec;
  format: "onnx" | "gguf";
  labels: { model: string; version: string };
  worker: ModelWorker;
  queue: RequestQueue;
  /** Recent requests and drift (GET /v2/models/{name}/monitoring). */
  monitor: ModelMonitor;
  /** Unloaded through the repository API: not counted for server readiness. */
  unloaded: boolean;
}

/**
 * The models named at start-up (and candidates added by a rollout), each with its own worker. Versions
 * of one name are kept apart; a request without a version goes to the name's traffic split — the first
 * version configured until a rollout sets one.
 */
export class ModelRepository {
  private readonly models: ServedModel[] = [];
  private readonly splits = new Map<string, TrafficSplit>();

  constructor(
    private readonly config: ServeConfig,
    private readonly metrics: ServerMetrics,
    private readonly logger: Logger,
  ) {}

  add(spec: ServedModelSpec, format: "onnx" | "gguf"): ServedModel {
    const labels = { model: spec.name, version: spec.version };
    const monitor = new ModelMonitor({ windowRequests: this.config.monitoring.windowRequests, method: this.config.monitoring.driftMethod });
    const worker = new ModelWorker(
      {
        name: spec.name,
        version: spec.version,
        path: spec.path,
        format,
        ...(this.config.threads === undefined ? {} : { threads: this.config.threads }),
        ...(this.config.contextSize === undefined ? {} : { contextSize: this.config.contextSize }),
        ...(spec.reference === undefined ? {} : { reference: { path: spec.reference, maxRows: this.config.monitoring.referenceRows } }),
      },
      {
        ...(this.config.signatureKey === undefined ? {} : { beforeLoad: () => verifyServedModel(spec, this.config.signatureKey!) }),
        onState: (state, detail) => {
          this.metrics.modelReady.set(labels, state === "ready" ? 1 : 0);
          const monitoring = worker.info?.monitoring;
          if (state === "ready" && monitoring) monitor.configure(monitoring.features, monitoring.reference);
          this.logger.info(`model ${spec.name}:${spec.version}${spec.source ? ` (${spec.source})` : ""} ${state}${detail ? `: ${detail}` : ""}`);
        },
        onMemory: (rssBytes) => this.metrics.modelMemory.set(labels, rssBytes),
        onRestart: (reason) => {
          this.metrics.workerRestarts.inc(labels);
          this.logger.warn(`model ${spec.name}:${spec.version}: ${reason}; restarting its worker`);
        },
      },
      this.config.isolation,
    );
    const queue = new RequestQueue(1, this.config.queueDepth, (depth, running) => {
      this.metrics.queueDepth.set(labels, depth);
      this.metrics.inFlight.set(labels, running);
    });
    const model: ServedModel = { spec, format, labels, worker, queue, monitor, unloaded: false };
    this.metrics.modelReady.set(labels, 0);
    this.models.push(model);
    if (!this.splits.has(spec.name)) this.setTraffic(spec.name, { stable: spec.version, candidateWeight: 0 });
    else this.metrics.trafficWeight.set(labels, 0);
    return model;
  }

  /** Where the name's unversioned requests go; the weight gauges follow at once. */
  setTraffic(name: string, split: TrafficSplit): void {
    this.splits.set(name, { ...split });
    for (const model of this.models.filter((m) => m.spec.name === name)) {
      const weight = model.spec.version === split.candidate ? split.candidateWeight : model.spec.version === split.stable ? 1 - (split.candidate === undefined ? 0 : split.candidateWeight) : 0;
      this.metrics.trafficWeight.set(model.labels, weight);
    }
  }

  traffic(name: string): TrafficSplit | undefined {
    const split = this.splits.get(name);
    return split ? { ...split } : undefined;
  }

  /**
   * Take a version out of service: no new requests reach it (the caller has already moved its traffic),
   * the ones it holds finish, then its worker stops and it leaves the repository.
   */
  async retire(model: ServedModel): Promise<void> {
    while (model.queue.inFlight > 0 || model.queue.depth > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const index = this.models.indexOf(model);
    if (index >= 0) this.models.splice(index, 1);
    await model.worker.stop();
    for (const gauge of [this.metrics.modelReady, this.metrics.trafficWeight, this.metrics.drifted, this.metrics.queueDepth, this.metrics.inFlight, this.metrics.modelMemory]) gauge.remove(model.labels);
    for (const feature of model.monitor.monitoredFeatures) this.metrics.driftScore.remove({ ...model.labels, feature: feature.name });
  }

  list(): readonly ServedModel[] {
    return this.models;
  }

  /**
   * The model for a name and version; without a version, the one the name's traffic split picks
   * (by `requestId` when given, else at random). MODEL_NOT_FOUND names what exists.
   */
  find(name: string, version: string | undefined, format: "onnx" | "gguf", requestId?: () => string | undefined): ServedModel {
    const split = version === undefined ? this.splits.get(name) : undefined;
    const wanted = split ? pickVersion(split, split.candidate !== undefined && split.candidateWeight > 0 && split.candidateWeight < 1 ? requestId?.() : undefined) : version;
    const model = this.models.find((m) => m.format === format && m.spec.name === name && (wanted === undefined || m.spec.version === wanted));
    if (model) return model;
    const known = this.models.filter((m) => m.format === format).map((m) => `${m.spec.name}:${m.spec.version}`);
    const other = this.models.find((m) => m.format !== format && m.spec.name === name);
    throw new EdgeforgeError("MODEL_NOT_FOUND", `no ${format === "onnx" ? "ONNX" : "GGUF"} model "${name}"${version === undefined ? "" : ` version "${version}"`} is served`, {
      hint: other ? `${name} is ${other.format === "gguf" ? "a GGUF model: use the OpenAI API under /v1" : "an ONNX model: use the Open Inference Protocol under /v2"}` : `served: ${known.join(", ") || "none"}`,
      details: { model: name, version },
    });
  }

  findByName(name: string): ServedModel[] {
    const found = this.models.filter((m) => m.spec.name === name);
    if (found.length === 0) throw new EdgeforgeError("MODEL_NOT_FOUND", `no model "${name}" is in the repository`, { hint: `models: ${this.models.map((m) => m.spec.name).join(", ")}` });
    return found;
  }

  /** Ready when every model that is not unloaded is ready. */
  get ready(): boolean {
    return this.models.every((m) => m.unloaded || m.worker.state === "ready");
  }

  async load(name: string): Promise<void> {
    for (const model of this.findByName(name)) {
      model.unloaded = false;
      if (model.worker.state === "stopped" || model.worker.state === "failed") await model.worker.start();
    }
  }

  async unload(name: string): Promise<void> {
    for (const model of this.findByName(name)) {
      model.unloaded = true;
      model.queue.rejectWaiting(new EdgeforgeError("MODEL_NOT_READY", `model ${name} was unloaded`, { hint: "load it again (POST /v2/repository/models/{name}/load)" }));
      await model.worker.stop();
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.models.map((m) => m.worker.stop()));
  }
}
