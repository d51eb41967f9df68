import type { FastifyRequest } from "fastify";
import { EdgeforgeError } from "../core/errors.js";
import { deadlineError } from "./http-errors.js";
import type { ServedModel } from "./model-repository.js";
import type { ServerMetrics } from "./server-metrics.js";

/** Header a client may send to ask for a shorter deadline than the server default. */
export const deadlineHeader = "request-timeout-ms";

export interface Deadline {
  signal: AbortSignal;
  ms: number;
}

/** The request's deadline: the server default, or less when the client asks for less. */
export function requestDeadline(request: FastifyRequest, defaultMs: number): Deadline {
  const raw = request.headers[deadlineHeader];
  let ms = defaultMs;
  if (raw !== undefined) {
    const asked = Number(Array.isArray(raw) ? raw[0] : raw);
    if (!Number.isFinite(asked) || asked <= 0) {
      throw new EdgeforgeError("INVALID_OPTION", `${deadlineHeader} must be a positive number of milliseconds`, { hint: `e.g. ${deadlineHeader}: 500` });
    }
    ms = Math.min(defaultMs, Math.ceil(asked));
  }
  return { signal: AbortSignal.timeout(ms), ms };
}

function abortedAs(deadline: Deadline): Promise<never> {
  return new Promise<never>((_, reject) => {
    const fail = (): void => reject(deadlineError(deadline.ms));
    if (deadline.signal.aborted) fail();
    else deadline.signal.addEventListener("abort", fail, { once: true });
  });
}

/**
 * Run `task` when the model's queue grants a slot, within the deadline. The slot is held until
 * the worker really finishes (a timed-out run still occupies the worker), so concurrency stays bounded.
 */
export async function runScheduled<T>(model: ServedModel, deadline: Deadline, metrics: ServerMetrics, task: () => Promise<T>): Promise<T> {
  const queuedAt = process.hrtime.bigint();
  let release: () => void;
  try {
    release = await model.queue.acquire(deadline.signal);
  } catch (error) {
    if (deadline.signal.aborted && !EdgeforgeError.isInstance(error)) throw deadlineError(deadline.ms);
    throw error;
  }
  metrics.queueWait.observe(model.labels, Number(process.hrtime.bigint() - queuedAt) / 1e9);
  const work = task();
  work.then(release, release);
  const timeout = abortedAs(deadline);
  timeout.catch(() => {});
  return Promise.race([work, timeout]);
}
