import { stat } from "node:fs/promises";
import Fastify, { type FastifyInstance } from "fastify";
import { parseServeConfig, servedModelFormat, type ServeConfigInput } from "../api/serve.js";
import { EdgeforgeError, fileError } from "../core/errors.js";
import { silentLogger, type Logger } from "../core/logger.js";
import { createBearerCheck, readBearerTokens } from "./bearer-auth.js";
import { httpFailure, retryAfterSeconds } from "./http-errors.js";
import { ModelRepository } from "./model-repository.js";
import { registerDashboardRoutes } from "./dashboard-routes.js";
import { registerMonitoringRoutes } from "./monitoring-routes.js";
import { registerOipRoutes } from "./oip-routes.js";
import { registerOpenAiRoutes } from "./openai-routes.js";
import { Registry } from "../api/registry.js";
import { registerAlertmanagerRoutes } from "./alertmanager-routes.js";
import { RolloutController } from "./rollout-controller.js";
import { registerRolloutRoutes } from "./rollout-routes.js";
import { PendingRecords } from "./pending-records.js";
import { BodyPool, readRequestBody } from "./request-body.js";
import { createServerMetrics, type ServerMetrics } from "./server-metrics.js";
import type { ServerContext } from "./server-context.js";

export interface InferenceServer {
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  port: number;
  app: FastifyInstance;
  repository: ModelRepository;
  metrics: ServerMetrics;
  rollouts: RolloutController;
  /** Resolves when every model has finished loading (or failed to) and running rollouts have been resumed. */
  loaded: Promise<void>;
  /** Stop accepting, let in-flight requests finish up to `drainMs`, stop the workers. */
  close(drainMs?: number): Promise<void>;
}

export interface StartServerOptions {
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
}

/**
 * Start `edgeforge serve`: the HTTP server listens at once (health answers 503 while models load),
 * each model loads in its own worker process.
 */
export async function startInferenceServer(input: ServeConfigInput, options: StartServerOptions = {}): Promise<InferenceServer> {
  const config = parseServeConfig(input);
  const logger = options.logger ?? silentLogger;
  const tokens = await readBearerTokens(config.tokenFile, options.env);
  if (config.authInference && tokens.length === 0) {
    throw new EdgeforgeError("INVALID_OPTION", "--auth inference needs bearer tokens", { hint: "pass --token-file FILE or set EDGEFORGE_SERVE_TOKENS" });
  }
  const isAuthorized = createBearerCheck(tokens);
  const metrics = createServerMetrics();
  const repository = new ModelRepository(config, metrics, logger);
  for (const spec of config.models) {
    if (spec.reference !== undefined) {
      try {
        await stat(spec.reference);
      } catch (error) {
        throw fileError(error, spec.reference, "read");
      }
    }
    repository.add(spec, await servedModelFormat(spec.path));
  }

  // No framework logger: request lines would carry Authorization headers; the server logs its own events.
  const app = Fastify({ logger: false, bodyLimit: config.maxBodyBytes, return503OnClosing: true, forceCloseConnections: "idle" });
  const records = new PendingRecords();
  const bodies = new BodyPool();
  const context: ServerContext = { config, repository, metrics, logger, records, bodies };
  const registry = config.registry === undefined ? undefined : Registry.open(config.registry);
  const rollouts = new RolloutController(context, registry);

  // Bodies stay raw bytes: OIP requests are decoded in the worker, and binary tensors may follow the JSON.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (request, payload, done) => readRequestBody(payload, config.maxBodyBytes, request.routeOptions.config.pooledBody ? bodies : undefined, done));

  app.addHook("onRequest", async (request, reply) => {
    const auth = request.routeOptions.config.auth;
    if (auth === "admin" || (auth === "inference" && config.authInference)) {
      if (!isAuthorized(request.headers.authorization)) {
        reply.header("WWW-Authenticate", 'Bearer realm="edgeforge"');
        throw new EdgeforgeError("UNAUTHORIZED", tokens.length === 0 ? "this route needs a bearer token and the server has none configured" : "missing or invalid bearer token", {
          hint: tokens.length === 0 ? "start the server with --token-file FILE or EDGEFORGE_SERVE_TOKENS" : "send Authorization: Bearer <token>",
        });
      }
    }
  });

  app.setErrorHandler((error, request, reply) => {
    const failure = httpFailure(error);
    if (failure.status === 429 || failure.status === 503) reply.header("Retry-After", String(retryAfterSeconds));
    if (failure.status >= 500 && failure.status !== 503 && failure.status !== 504) logger.warn(`${request.method} ${request.routeOptions.url ?? "?"}: ${error instanceof Error ? error.message : String(error)}`);
    if (request.url.startsWith("/v1/")) {
      return reply.code(failure.status).send({ error: { message: failure.message, type: failure.status < 500 ? "invalid_request_error" : "server_error", code: failure.code } });
    }
    // `code` is the stable EdgeforgeError code, so clients (edgeforge rollout) can report the server's error as their own.
    return reply.code(failure.status).send({ error: failure.message, code: failure.code });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send(request.url.startsWith("/v1/") ? { error: { message: `no route ${request.method} ${request.url}`, type: "invalid_request_error", code: "NOT_FOUND" } } : { error: `no route ${request.method} ${request.url}` }));

  app.get("/metrics", async (_request, reply) => {
    await records.settled();
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  registerOipRoutes(app, context);
  registerOpenAiRoutes(app, context);
  registerMonitoringRoutes(app, context);
  registerRolloutRoutes(app, rollouts);
  registerAlertmanagerRoutes(app, context, rollouts);
  registerDashboardRoutes(app, context);

  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  logger.info(`edgeforge serve listening on ${url} (${config.models.length} model${config.models.length === 1 ? "" : "s"})`);

  const loaded = Promise.allSettled(repository.list().map((model) => model.worker.start()))
    .then(() => rollouts.resumeAll())
    .catch((error: unknown) => logger.warn(`resuming rollouts: ${error instanceof Error ? error.message : String(error)}`));
  let closing: Promise<void> | undefined;
  const close = (drainMs = config.drainMs): Promise<void> => {
    closing ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const drained = app.close();
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          logger.warn(`drain deadline of ${drainMs} ms passed; closing remaining connections`);
          app.server.closeAllConnections();
          resolve();
        }, drainMs);
      });
      rollouts.close();
      await Promise.race([drained, deadline]);
      clearTimeout(timer);
      await repository.stopAll();
      registry?.close();
    })();
    return closing;
  };
  return { url, port, app, repository, metrics, rollouts, loaded, close };
}
