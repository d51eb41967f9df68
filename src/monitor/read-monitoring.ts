import { EdgeforgeError } from "../core/errors.js";
import type { ModelMonitoringResponse } from "./model-monitor.js";

export interface ReadMonitoringOptions {
  /** Bearer token, for servers behind an authenticating proxy. */
  token?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

function rootOf(url: string): string {
  try {
    return new URL(url).href.replace(/\/$/, "");
  } catch {
    throw new EdgeforgeError("INVALID_OPTION", `${url} is not a URL`, { hint: "e.g. edgeforge monitor http://127.0.0.1:8080" });
  }
}

async function readText(url: string, path: string, options: ReadMonitoringOptions): Promise<string> {
  const signals = [AbortSignal.timeout(options.timeoutMs ?? 10_000), ...(options.signal ? [options.signal] : [])];
  let response: Response;
  try {
    response = await fetch(`${rootOf(url)}${path}`, { headers: options.token ? { authorization: `Bearer ${options.token}` } : {}, signal: AbortSignal.any(signals) });
  } catch (error) {
    options.signal?.throwIfAborted();
    throw new EdgeforgeError("SERVER_UNREACHABLE", `${url} did not answer: ${error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error)}`, {
      hint: "is `edgeforge serve` running at that address?",
      cause: error,
    });
  }
  const text = await response.text();
  if (response.status === 404 && path.endsWith("/monitoring")) {
    throw new EdgeforgeError("MODEL_NOT_FOUND", `${url}: ${text}`, { hint: "see the model names at /metrics (edgeforge_model_ready)" });
  }
  if (!response.ok) throw new EdgeforgeError("SERVER_UNREACHABLE", `${url}${path} answered HTTP ${response.status}: ${text.slice(0, 200)}`, { hint: "check the URL and the server's log" });
  return text;
}

/** The served model names, from the server's `edgeforge_model_ready` series at /metrics (no token needed). */
export async function readServedModelNames(url: string, options: ReadMonitoringOptions = {}): Promise<string[]> {
  const text = await readText(url, "/metrics", options);
  const names = new Set<string>();
  for (const match of text.matchAll(/^edgeforge_model_ready\{[^}]*model="((?:[^"\\]|\\.)*)"/gm)) names.add(match[1]!);
  return [...names];
}

/** GET /v2/models/{model}/monitoring. */
export async function readModelMonitoring(url: string, model: string, options: ReadMonitoringOptions = {}): Promise<ModelMonitoringResponse> {
  return JSON.parse(await readText(url, `/v2/models/${encodeURIComponent(model)}/monitoring`, options)) as ModelMonitoringResponse;
}
