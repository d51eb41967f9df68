import { EdgeforgeError, errorCodes, type ErrorCode } from "./errors.js";

export interface CallServerOptions {
  method?: "GET" | "POST";
  /** Sent as JSON. */
  body?: unknown;
  /** Bearer token. */
  token?: string;
  timeoutMs?: number;
  /** Cancels the call (rethrown as its own reason, not as an unreachable server). */
  signal?: AbortSignal;
  /** How to read the answer: parsed JSON (default) or the text itself (e.g. /metrics). */
  as?: "json" | "text";
  /** Hint for a 401, e.g. how the CLI takes a token. */
  unauthorizedHint?: string;
}

/**
 * Call a route of `edgeforge serve` (or any server speaking its error shape). A refused request becomes
 * the server's own typed error (its `{error, code}` body), so callers report it as they would a local
 * failure; no answer at all is SERVER_UNREACHABLE.
 */
export async function callServer(server: string, path: string, options: CallServerOptions & { as: "text" }): Promise<string>;
export async function callServer<T>(server: string, path: string, options?: CallServerOptions): Promise<T>;
export async function callServer<T>(server: string, path: string, options: CallServerOptions = {}): Promise<T | string> {
  let url: URL;
  try {
    url = new URL(path.replace(/^\//, ""), server.endsWith("/") ? server : `${server}/`);
  } catch {
    throw new EdgeforgeError("INVALID_OPTION", `${server} is not a URL`, { hint: "e.g. http://127.0.0.1:8080" });
  }
  const method = options.method ?? "GET";
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { ...(options.body === undefined ? {} : { "content-type": "application/json" }), ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: AbortSignal.any([AbortSignal.timeout(options.timeoutMs ?? 120_000), ...(options.signal ? [options.signal] : [])]),
    });
  } catch (error) {
    options.signal?.throwIfAborted();
    throw new EdgeforgeError("SERVER_UNREACHABLE", `${url.origin} did not answer: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}`, {
      hint: "check the server address and that `edgeforge serve` runs there",
      cause: error,
    });
  }
  const text = await response.text();
  if (response.ok && options.as === "text") return text;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (response.ok) return body as T;
  const failure = (body ?? {}) as { error?: unknown; code?: unknown };
  const code: ErrorCode = typeof failure.code === "string" && failure.code in errorCodes ? (failure.code as ErrorCode) : response.status === 401 ? "UNAUTHORIZED" : "SERVER_UNREACHABLE";
  const message = typeof failure.error === "string" ? failure.error : `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ""}`;
  throw new EdgeforgeError(code, `the server refused ${method} ${url.pathname}: ${message}`, {
    hint: code === "UNAUTHORIZED" ? (options.unauthorizedHint ?? "send a valid bearer token") : "see the message above and the server's log",
    details: { status: response.status },
  });
}
