import type { ChatMessage, GeneratedText } from "../api/serving-sessions.js";
import type { TensorSpec } from "../core/tensor.js";
import type { DriftReference } from "../monitor/model-monitor.js";
import type { MonitoredFeature } from "../monitor/request-features.js";
import type { SharedBody } from "./shared-response.js";

/** Messages between the server and a model's worker process (IPC with structured-clone serialization). */

export interface LoadMessage {
  kind: "load";
  name: string;
  version: string;
  path: string;
  format: "onnx" | "gguf";
  threads?: number;
  contextSize?: number;
  /** Process isolation: the files large bodies travel through (see payload-files.ts). */
  payload?: { requestPath: string; responsePath: string };
  /** The drift reference: a dataset whose samples run once through the model at load (ONNX), or prompts that are tokenized (GGUF). */
  reference?: { path: string; maxRows: number };
}

/** An OIP infer request body, decoded and validated in the worker so big JSON never blocks the server's event loop. */
export interface InferMessage {
  kind: "infer";
  id: number;
  /** The body, or its length when it was written to the request payload file instead. */
  body: Uint8Array | { inFileBytes: number };
  /** Inference-Header-Content-Length: the JSON header's length when binary tensors follow it. */
  headerLength?: number;
}

export interface GenerateMessage {
  kind: "generate";
  id: number;
  mode: "completion" | "chat";
  prompt?: string;
  messages?: ChatMessage[];
  maxTokens: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  stop?: string[];
}

export interface CancelMessage {
  kind: "cancel";
  id: number;
}

export type ToWorkerMessage = LoadMessage | InferMessage | GenerateMessage | CancelMessage;

export interface ReadyMessage {
  kind: "ready";
  runtime: string;
  runtimeVersion: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  llm?: { contextSize: number; chatWrapper: string };
  /** The per-request features the worker reports, and the reference's when one was given. */
  monitoring?: { features: MonitoredFeature[]; reference?: DriftReference };
  rssBytes: number;
}

export interface LoadFailedMessage {
  kind: "load-failed";
  error: WorkerError;
}

export interface InferResultMessage {
  kind: "infer-result";
  id: number;
  /**
   * The response body in pieces (JSON, then each binary output), its length in the response payload
   * file (process isolation), or its place in the shared slot (thread isolation).
   */
  body: Uint8Array[] | { inFileBytes: number } | SharedBody;
  headerLength?: number;
  inferenceNs: number;
}

/** Sent right after an infer result, so computing these is off the response's path. */
export interface InferStatsMessage {
  kind: "infer-stats";
  id: number;
  /** Mean top-1 probability (or max score) over the first floating output's rows. */
  confidence?: number;
  /** The request's monitored features, in the ready message's order. */
  features?: Float64Array;
  rssBytes: number;
}

export interface TextMessage {
  kind: "text";
  id: number;
  text: string;
}

export interface GeneratedMessage {
  kind: "generated";
  id: number;
  result: GeneratedText;
  /** The prompt's monitored features (promptFeatures order). */
  features?: Float64Array;
  inferenceNs: number;
  rssBytes: number;
}

export interface WorkerError {
  /** 400 for a request the model cannot take, 500 for a runtime failure. */
  status: 400 | 500;
  code: string;
  message: string;
}

export interface RequestFailedMessage {
  kind: "request-failed";
  id: number;
  error: WorkerError;
}

export type FromWorkerMessage = ReadyMessage | LoadFailedMessage | InferResultMessage | InferStatsMessage | TextMessage | GeneratedMessage | RequestFailedMessage;
