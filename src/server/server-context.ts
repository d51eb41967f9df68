import type { ServeConfig } from "../api/serve.js";
import type { Logger } from "../core/logger.js";
import type { ModelRepository } from "./model-repository.js";
import type { PendingRecords } from "./pending-records.js";
import type { BodyPool } from "./request-body.js";
import type { ServerMetrics } from "./server-metrics.js";

/** What every route module receives. */
export interface ServerContext {
  config: ServeConfig;
  repository: ModelRepository;
  metrics: ServerMetrics;
  logger: Logger;
  /** Per-request records still waiting for the worker's statistics; readers of metrics await them. */
  records: PendingRecords;
  /** Reused buffers for inference request bodies (routes with `pooledBody`), released once handed on. */
  bodies: BodyPool;
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** "admin": a bearer token is always required; "inference": required with --auth inference. */
    auth?: "admin" | "inference";
    /** The body is read into a buffer leased from the server's pool; the handler releases it. */
    pooledBody?: boolean;
  }
}
