import { callServer } from "../core/server-client.js";
import type { ModelMonitoringResponse } from "./model-monitor.js";

export interface ReadMonitoringOptions {
  /** Bearer token, for servers behind an authenticating proxy. */
  token?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

function callOptions(options: ReadMonitoringOptions) {
  return { timeoutMs: options.timeoutMs ?? 10_000, ...(options.token ? { token: options.token } : {}), ...(options.signal ? { signal: options.signal } : {}) };
}

/** The served model names, from the server's `edgeforge_model_ready` series at /metrics (no token needed). */
export async function readServedModelNames(url: string, options: ReadMonitoringOptions = {}): Promise<string[]> {
  const text = await callServer(url, "/metrics", { ...callOptions(options), as: "text" });
  const names = new Set<string>();
  for (const match of text.matchAll(/^edgeforge_model_ready\{[^}]*model="((?:[^"\\]|\\.)*)"/gm)) names.add(match[1]!);
  return [...names];
}

/** GET /v2/models/{model}/monitoring. */
export async function readModelMonitoring(url: string, model: string, options: ReadMonitoringOptions = {}): Promise<ModelMonitoringResponse> {
  return callServer<ModelMonitoringResponse>(url, `/v2/models/${encodeURIComponent(model)}/monitoring`, callOptions(options));
}
