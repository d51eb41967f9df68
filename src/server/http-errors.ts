import { EdgeforgeError, type ErrorCode } from "../core/errors.js";

const statusByCode: Partial<Record<ErrorCode, number>> = {
  INVALID_SHAPE: 400,
  INVALID_OPTION: 400,
  INVALID_CONFIG: 400,
  REGISTRY_NOT_FOUND: 404,
  REGISTRY_CONFLICT: 409,
  UNSUPPORTED_FEATURE: 400,
  UNAUTHORIZED: 401,
  MODEL_NOT_FOUND: 404,
  SERVER_BUSY: 429,
  MODEL_NOT_READY: 503,
  DEADLINE_EXCEEDED: 504,
};

/** Seconds a refused client should wait before retrying (429 and 503). */
export const retryAfterSeconds = 1;

export interface HttpFailure {
  status: number;
  code: string;
  message: string;
}

/** Fastify's own request errors (body too large, bad media type) keep their 4xx status. */
function frameworkFailure(error: unknown): HttpFailure | undefined {
  const candidate = error as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (typeof candidate?.statusCode === "number" && candidate.statusCode >= 400 && candidate.statusCode < 500 && typeof candidate.code === "string") {
    return { status: candidate.statusCode, code: candidate.code, message: String(candidate.message) };
  }
  return undefined;
}

/** Map any failure to an HTTP status and a message safe to show clients. */
export function httpFailure(error: unknown): HttpFailure {
  if (EdgeforgeError.isInstance(error)) {
    const status = statusByCode[error.code] ?? 500;
    return { status, code: error.code, message: error.hint && status < 500 ? `${error.message} (${error.hint})` : error.message };
  }
  return frameworkFailure(error) ?? { status: 500, code: "INTERNAL", message: "internal server error" };
}

export function deadlineError(deadlineMs: number): EdgeforgeError {
  return new EdgeforgeError("DEADLINE_EXCEEDED", `the request did not finish within its ${deadlineMs} ms deadline`, {
    hint: "raise the deadline (Request-Timeout-Ms header, serve --deadline) or reduce load",
    details: { deadlineMs },
  });
}
