import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { version as edgeforgeVersion } from "../api/version.js";
import { oipDatatypeFor } from "../formats/oip/oip-tensors.js";
import type { TensorSpec } from "../core/tensor.js";
import { httpFailure } from "./http-errors.js";
import type { ModelRepository, ServedModel } from "./model-repository.js";
import type { InferResult } from "./model-worker.js";
import { requestDeadline, runScheduled } from "./scheduling.js";
import type { ServerContext } from "./server-context.js";
import { oipRequestId } from "./traffic-split.js";

/** Header carrying the JSON part's length when binary tensors follow (binary tensor data extension). */
export const inferenceHeaderLength = "inference-header-content-length";

type ModelParams = { model: string; version?: string };

function tensorMetadata(spec: TensorSpec): { name: string; datatype: string; shape: number[] } {
  return { name: spec.name, datatype: oipDatatypeFor(spec.dtype) ?? spec.dtype, shape: spec.shape.map((dim) => (typeof dim === "number" && dim >= 0 ? dim : -1)) };
}

function modelMetadata(repository: ModelRepository, model: ServedModel): Record<string, unknown> {
  const info = model.worker.info;
  return {
    name: model.spec.name,
    versions: repository.list().filter((m) => m.format === "onnx" && m.spec.name === model.spec.name).map((m) => m.spec.version),
    platform: "onnxruntime_onnx",
    inputs: (info?.inputs ?? []).map(tensorMetadata),
    outputs: (info?.outputs ?? []).map(tensorMetadata),
  };
}

function readHeaderLength(request: FastifyRequest): number | undefined {
  const raw = request.headers[inferenceHeaderLength];
  if (raw === undefined) return undefined;
  const value = Number(Array.isArray(raw) ? raw[0] : raw);
  return Number.isSafeInteger(value) && value >= 0 ? value : Number.NaN;
}

/**
 * The JSON and each output go to the socket as they are, in one corked write: never joined into one
 * more copy, and no stream in between (a Readable over the pieces added async hops per piece). A body
 * read into a reused buffer is released once the response is done with it.
 */
function writePieces(reply: FastifyReply, result: InferResult): void {
  reply.hijack();
  const raw = reply.raw;
  if (result.release) raw.once("close", result.release);
  const headers = Object.fromEntries(Object.entries(reply.getHeaders()).filter(([, value]) => value !== undefined)) as Record<string, number | string | string[]>;
  raw.writeHead(200, {
    ...headers,
    "content-type": result.headerLength === undefined ? "application/json" : "application/octet-stream",
    ...(result.headerLength === undefined ? {} : { "inference-header-content-length": result.headerLength }),
    "content-length": result.body.reduce((sum, piece) => sum + piece.byteLength, 0),
  });
  raw.cork();
  for (const piece of result.body) raw.write(piece);
  raw.uncork();
  raw.end();
}

function secondsSince(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Open Inference Protocol (KServe v2) REST: health, metadata, infer, and the model repository extension. */
export function registerOipRoutes(app: FastifyInstance, context: ServerContext): void {
  const { repository, metrics, config, records, bodies } = context;

  app.get("/v2/health/live", async () => ({ live: true }));
  app.get("/v2/health/ready", async (_request, reply) => {
    const ready = repository.ready;
    return reply.code(ready ? 200 : 503).send({ ready });
  });
  app.get("/v2", async () => ({ name: "edgeforge", version: edgeforgeVersion, extensions: ["binary_tensor_data", "model_repository"] }));

  const metadata = async (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    const model = repository.find(request.params.model, request.params.version, "onnx");
    if (!model.worker.info) return reply.code(503).send({ error: `model ${model.spec.name} is ${model.worker.state}; its metadata is known once it has loaded` });
    return modelMetadata(repository, model);
  };
  app.get("/v2/models/:model", metadata);
  app.get("/v2/models/:model/versions/:version", metadata);

  const ready = async (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    const model = repository.find(request.params.model, request.params.version, "onnx");
    const isReady = model.worker.state === "ready";
    return reply.code(isReady ? 200 : 503).send({ name: model.spec.name, ready: isReady });
  };
  app.get("/v2/models/:model/ready", ready);
  app.get("/v2/models/:model/versions/:version/ready", ready);

  const infer = async (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    const started = process.hrtime.bigint();
    let model: ServedModel | undefined;
    try {
      const body = request.body instanceof Uint8Array ? request.body : new Uint8Array(0);
      const headerLength = readHeaderLength(request);
      model = repository.find(request.params.model, request.params.version, "onnx", () => oipRequestId(request.headers["x-request-id"], body, headerLength));
      metrics.inputSize.observe(model.labels, body.byteLength);
      const deadline = requestDeadline(request, config.deadlineMs);
      const served = model;
      // A result that arrives after the deadline answered 504 is dropped: its leased buffer goes back at once.
      const result = await runScheduled(served, deadline, metrics, () =>
        served.worker.infer(body, headerLength).then((inferred) => {
          if (deadline.signal.aborted) inferred.release?.();
          return inferred;
        }),
      );
      const seconds = secondsSince(started);
      // The bytes go to the socket first; the bookkeeping after them, and the statistics when the worker sends them.
      writePieces(reply, result);
      metrics.inferenceDuration.observe(served.labels, result.inferenceNs / 1e9);
      count(served, seconds, 200);
      records.track(
        result.stats.then(
          (stats) => {
            if (stats.confidence !== undefined) metrics.predictionConfidence.observe(served.labels, stats.confidence);
            served.monitor.record({ latencyMs: seconds * 1000, status: 200, ...(stats.features ? { features: stats.features } : {}) });
          },
          () => served.monitor.record({ latencyMs: seconds * 1000, status: 200 }),
        ),
      );
      // eslint-disable-next-line @typescript-eslint/return-await -- Fastify's reply is thenable: returned, it tells Fastify the handler has sent it; awaited, it would wait for the socket
      return reply;
    } catch (error) {
      const failure = httpFailure(error);
      if (model) {
        const seconds = secondsSince(started);
        count(model, seconds, failure.status);
        model.monitor.record({ latencyMs: seconds * 1000, status: failure.status });
      }
      throw error;
    } finally {
      // By now the body has gone to the worker (copied into the payload file or the message) or never will.
      if (request.body instanceof Uint8Array) bodies.release(request.body);
    }
  };
  const count = (model: ServedModel, seconds: number, status: number): void => {
    const labels = { ...model.labels, protocol: "oip", status: String(status) };
    metrics.requests.inc(labels);
    metrics.requestDuration.observe(labels, seconds);
  };
  app.post("/v2/models/:model/infer", { config: { auth: "inference", pooledBody: true } }, infer);
  app.post("/v2/models/:model/versions/:version/infer", { config: { auth: "inference", pooledBody: true } }, infer);

  app.post("/v2/repository/index", { config: { auth: "admin" } }, async () =>
    repository.list().map((m) => ({ name: m.spec.name, version: m.spec.version, state: m.unloaded ? "UNAVAILABLE" : m.worker.state === "ready" ? "READY" : m.worker.state === "failed" ? "UNAVAILABLE" : "LOADING", reason: m.unloaded ? "unloaded" : (m.worker.lastError ?? "") })),
  );
  app.post("/v2/repository/models/:model/load", { config: { auth: "admin" } }, async (request: FastifyRequest<{ Params: ModelParams }>) => {
    await repository.load(request.params.model);
    return {};
  });
  app.post("/v2/repository/models/:model/unload", { config: { auth: "admin" } }, async (request: FastifyRequest<{ Params: ModelParams }>) => {
    await repository.unload(request.params.model);
    return {};
  });
}
