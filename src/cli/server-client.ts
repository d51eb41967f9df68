import { readFile } from "node:fs/promises";
import { EdgeforgeError, errorCodes, fileError, type ErrorCode } from "../core/errors.js";

/** A bearer token from `--token-file` (first non-comment line) or, without one, from the environment variable `envVariable`. */
export async function readClientToken(tokenFile: string | undefined, envVariable: string): Promise<string | undefined> {
  if (!tokenFile) return process.env[envVariable] || undefined;
  let text: string;
  try {
    text = await readFile(tokenFile, "utf8");
  } catch (error) {
    throw fileError(error, tokenFile, "read");
  }
  const token = text.split(/\r?\n/).map((line) => line.trim()).find((line) => line && !line.startsWith("#"));
  if (!token) throw new EdgeforgeError("INVALID_OPTION", `token file ${tokenFile} holds no token`, { hint: "write the token on the first line" });
  return token;
}

/**
 * Call a JSON route of `edgeforge serve`. A refused request becomes the server's own typed error
 * (its `code` and message), so the CLI prints it as `error[CODE]` like any local failure.
 */
export async function callServer<T>(server: string, path: string, options: { method?: "GET" | "POST"; body?: unknown; token?: string; timeoutMs?: number } = {}): Promise<T> {
  const url = new URL(path, server.endsWith("/") ? server : `${server}/`);
  let response: Response;
  try {
    response = await fetch(url, {
      method: options.method ?? "GET",
      headers: { ...(options.body === undefined ? {} : { "content-type": "application/json" }), ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 120_000),
    });
  } catch (error) {
    throw new EdgeforgeError("SERVER_UNREACHABLE", `cannot reach the server at ${url.origin}: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}`, {
      hint: "check --server (default http://127.0.0.1:8080) and that `edgeforge serve` runs",
      cause: error,
    });
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (response.ok) return body as T;
  const failure = (body ?? {}) as { error?: unknown; code?: unknown };
  const code: ErrorCode = typeof failure.code === "string" && failure.code in errorCodes ? (failure.code as ErrorCode) : response.status === 401 ? "UNAUTHORIZED" : "INTERNAL";
  throw new EdgeforgeError(code, `the server refused ${options.method ?? "GET"} ${url.pathname}: ${typeof failure.error === "string" ? failure.error : `HTTP ${response.status}`}`, {
    hint: code === "UNAUTHORIZED" ? "pass an admin token: --token-file FILE or EDGEFORGE_ADMIN_TOKEN" : "see the message above",
    details: { status: response.status },
  });
}
