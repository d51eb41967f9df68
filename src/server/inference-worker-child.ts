import { parentPort } from "node:worker_threads";
import { EdgeforgeError } from "../core/errors.js";
import type { Session, SessionDescription } from "../core/session.js";
import type { NamedTensors } from "../core/tensor.js";
import { openServingSession, openTextGenerator, type LlamaCppGenerator } from "../api/serving-sessions.js";
import { openDataset } from "../datasets/open-dataset.js";
import { buildDriftReference } from "../monitor/build-drift-reference.js";
import { predictionConfidence } from "../monitor/prediction-summary.js";
import { buildPromptReference, extractPromptFeatures, promptFeatures, promptText, readPromptReference } from "../monitor/prompt-features.js";
import { extractFeatures, planFeatures, type MonitoredFeature } from "../monitor/request-features.js";
import { decodeInferRequest, encodeInferResponse } from "./oip-infer-codec.js";
import { PayloadFile, payloadFileMinBytes } from "./payload-files.js";
import { SharedResponseSlot } from "./shared-response.js";
import type { FromWorkerMessage, GenerateMessage, InferMessage, LoadMessage, ToWorkerMessage, WorkerError } from "./worker-protocol.js";

/**
 * One served model in its own process (or worker thread with --isolation thread): the server's event
 * loop never decodes tensors or runs inference, and in a process a native crash takes down only the model.
 */
let session: Session | undefined;
let generator: LlamaCppGenerator | undefined;
let model: LoadMessage | undefined;
let features: MonitoredFeature[] = [];
/** GGUF: the drift reference's common tokens, for each prompt's common-token share. */
let commonTokens: Set<number> | undefined;
const cancels = new Map<number, AbortController>();

let payload: { request: PayloadFile; response: PayloadFile } | undefined;
/** Thread isolation: the reused buffer large results reach the server thread through. */
const responseSlot = new SharedResponseSlot();

/** Buffers that pieces own whole (so moving them to the server thread loses nothing the worker still uses). */
function ownedBuffers(pieces: readonly Uint8Array[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const piece of pieces) {
    if (piece.buffer instanceof ArrayBuffer && piece.byteOffset === 0 && piece.byteLength === piece.buffer.byteLength) buffers.add(piece.buffer);
  }
  return [...buffers];
}

function send(message: FromWorkerMessage): void {
  if (!parentPort) {
    // Between processes a large body goes through the response file: IPC would copy it several times.
    if (message.kind === "infer-result" && payload && Array.isArray(message.body) && byteCount(message.body) >= payloadFileMinBytes) {
      process.send?.({ ...message, body: { inFileBytes: payload.response.write(message.body) } }, undefined, {}, ignoreClosedChannel);
      return;
    }
    process.send?.(message, undefined, {}, ignoreClosedChannel);
    return;
  }
  // Between threads a large result is copied into the shared slot the server holds until it has
  // written the response; while the slot is out, the result's bytes move without a copy when they own
  // their whole buffer (buffers onnxruntime allocated outside V8 may refuse to move, and are then copied).
  const shared = message.kind === "infer-result" && Array.isArray(message.body) ? responseSlot.tryFill(message.body) : undefined;
  if (shared) {
    parentPort.postMessage({ ...message, body: shared });
    return;
  }
  const transfer = message.kind === "infer-result" && Array.isArray(message.body) ? ownedBuffers(message.body) : [];
  try {
    parentPort.postMessage(message, transfer);
  } catch (error) {
    if (transfer.length === 0) throw error;
    parentPort.postMessage(message);
  }
}

/**
 * A server that stops the worker mid-request (shutdown, unload) closes the channel before the reply is
 * written (EPIPE); the disconnect handler ends the process, so the reply is dropped instead of raised.
 */
function ignoreClosedChannel(): void {}

function byteCount(pieces: readonly Uint8Array[]): number {
  return pieces.reduce((sum, piece) => sum + piece.byteLength, 0);
}

function toWorkerError(error: unknown): WorkerError {
  if (EdgeforgeError.isInstance(error)) {
    const clientFault = error.code === "INVALID_SHAPE" || error.code === "INVALID_OPTION" || error.code === "UNSUPPORTED_FEATURE";
    return { status: clientFault ? 400 : 500, code: error.code, message: error.message };
  }
  return { status: 500, code: "INTERNAL", message: error instanceof Error ? error.message : String(error) };
}

async function load(message: LoadMessage): Promise<void> {
  try {
    const settings = { ...(message.threads === undefined ? {} : { threads: message.threads }), ...(message.contextSize === undefined ? {} : { contextSize: message.contextSize }) };
    model = message;
    if (message.payload) payload = { request: new PayloadFile(message.payload.requestPath, false), response: new PayloadFile(message.payload.responsePath, false) };
    if (message.format === "gguf") {
      generator = await openTextGenerator(message.path, settings);
      const llm = generator;
      const built = message.reference ? buildPromptReference(message.reference.path, await readPromptReference(message.reference.path, message.reference.maxRows), (text) => llm.tokenize(text)) : undefined;
      commonTokens = built?.common;
      send({
        kind: "ready",
        runtime: "llama-cpp",
        runtimeVersion: "",
        inputs: [],
        outputs: [],
        llm: { contextSize: generator.contextSize, chatWrapper: generator.chatWrapperName },
        monitoring: { features: [...promptFeatures], ...(built ? { reference: built.reference } : {}) },
        rssBytes: process.memoryUsage.rss(),
      });
    } else {
      session = await openServingSession(message.path, "onnx", settings);
      const description = session.describe();
      features = planFeatures(description.inputs, description.outputs);
      const reference = message.reference ? await buildDriftReference(session, await openDataset(message.reference.path), message.reference.maxRows) : undefined;
      send({
        kind: "ready",
        runtime: description.runtime,
        runtimeVersion: description.runtimeVersion,
        inputs: description.inputs,
        outputs: description.outputs,
        monitoring: { features, ...(reference ? { reference } : {}) },
        rssBytes: process.memoryUsage.rss(),
      });
    }
  } catch (error) {
    send({ kind: "load-failed", error: toWorkerError(error) });
  }
}

async function infer(message: InferMessage): Promise<void> {
  try {
    if (!session || !model) throw new EdgeforgeError("RUNTIME_FAILED", "the model is not loaded", { hint: "wait for the model to be ready" });
    const description = session.describe();
    // The request file's bytes are read into a reused buffer: decoding copies every tensor out of it.
    const body = message.body instanceof Uint8Array ? message.body : payload!.request.readShared(message.body.inFileBytes);
    const request = decodeInferRequest(body, message.headerLength, description);
    const started = process.hrtime.bigint();
    const results = await session.run(request.inputs, { outputNames: request.outputs.map((o) => o.name) });
    const inferenceNs = Number(process.hrtime.bigint() - started);
    const encoded = encodeInferResponse(request, model, results);
    send({ kind: "infer-result", id: message.id, body: encoded.pieces, ...(encoded.headerLength === undefined ? {} : { headerLength: encoded.headerLength }), inferenceNs });
    sendStats(message.id, description, request.inputs, results);
  } catch (error) {
    send({ kind: "request-failed", id: message.id, error: toWorkerError(error) });
  }
}

/**
 * The request's confidence and monitored features, computed after its response has gone to the server
 * (0.5–0.6 ms per PP-OCRv4 rec request that the client no longer waits for). The server records them
 * when they arrive; a failure here leaves only the statistics out, the response is already answered.
 */
function sendStats(id: number, description: SessionDescription, inputs: NamedTensors, results: NamedTensors): void {
  let stats: { confidence?: number; features?: Float64Array } = {};
  try {
    const confidence = predictionConfidence(results);
    stats = { ...(confidence === undefined ? {} : { confidence }), features: extractFeatures(description.inputs, description.outputs, inputs, results, new Float64Array(features.length), confidence) };
  } catch {
    // The statistics are best effort; the request itself succeeded.
  }
  send({ kind: "infer-stats", id, ...stats, rssBytes: process.memoryUsage.rss() });
}

async function generate(message: GenerateMessage): Promise<void> {
  const controller = new AbortController();
  cancels.set(message.id, controller);
  try {
    if (!generator) throw new EdgeforgeError("RUNTIME_FAILED", "the model is not loaded", { hint: "wait for the model to be ready" });
    const options = {
      maxTokens: message.maxTokens,
      ...(message.temperature === undefined ? {} : { temperature: message.temperature }),
      ...(message.topP === undefined ? {} : { topP: message.topP }),
      ...(message.seed === undefined ? {} : { seed: message.seed }),
      ...(message.stop === undefined ? {} : { stop: message.stop }),
      signal: controller.signal,
      onText: (text: string) => send({ kind: "text", id: message.id, text }),
    };
    const started = process.hrtime.bigint();
    const result = message.mode === "chat" ? await generator.chat(message.messages ?? [], options) : await generator.complete(message.prompt ?? "", options);
    const inferenceNs = Number(process.hrtime.bigint() - started);
    const text = promptText(message);
    send({ kind: "generated", id: message.id, result, features: extractPromptFeatures(text, generator.tokenize(text), commonTokens), inferenceNs, rssBytes: process.memoryUsage.rss() });
  } catch (error) {
    send({ kind: "request-failed", id: message.id, error: toWorkerError(error) });
  } finally {
    cancels.delete(message.id);
  }
}

const onMessage = (message: ToWorkerMessage): void => {
  if (message.kind === "load") void load(message);
  else if (message.kind === "infer") void infer(message);
  else if (message.kind === "generate") void generate(message);
  else if (message.kind === "cancel") cancels.get(message.id)?.abort();
};

if (parentPort) {
  parentPort.on("message", onMessage);
} else {
  process.on("message", onMessage);
  // The server going away (crash or kill) closes the IPC channel: leave with it.
  process.on("disconnect", () => {
    process.exit(0);
  });
}
