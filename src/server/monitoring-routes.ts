import type { FastifyInstance, FastifyRequest } from "fastify";
import { EdgeforgeError } from "../core/errors.js";
import type { ModelMonitoringResponse } from "../monitor/model-monitor.js";
import type { ServedModel } from "./model-repository.js";
import type { ServerContext } from "./server-context.js";

type ModelParams = { model: string; version?: string };

/**
 * The monitoring routes, and the timer that recomputes drift off the request path (every
 * `monitoring.intervalMs`, only for versions that got requests since) and sets the drift gauges.
 */
export function registerMonitoringRoutes(app: FastifyInstance, context: ServerContext): void {
  const { repository, metrics, config } = context;

  const evaluate = (model: ServedModel): void => {
    const report = model.monitor.evaluateDrift();
    if (!report) return;
    for (const feature of report.features) metrics.driftScore.set({ ...model.labels, feature: feature.feature }, feature.score);
    metrics.drifted.set(model.labels, report.drifted ? 1 : 0);
  };
  const timer = setInterval(() => {
    for (const model of repository.list()) evaluate(model);
  }, config.monitoring.intervalMs);
  timer.unref();
  app.addHook("onClose", async () => clearInterval(timer));

  const monitoring = async (request: FastifyRequest<{ Params: ModelParams }>): Promise<ModelMonitoringResponse> => {
    const all = repository.findByName(request.params.model);
    const versions = all.filter((m) => request.params.version === undefined || m.spec.version === request.params.version);
    if (versions.length === 0) {
      throw new EdgeforgeError("MODEL_NOT_FOUND", `model "${request.params.model}" has no version "${request.params.version}"`, { hint: `versions: ${all.map((m) => m.spec.version).join(", ")}` });
    }
    await context.records.settled();
    return {
      model: request.params.model,
      versions: versions.map((m) => ({ version: m.spec.version, ready: m.worker.state === "ready", features: [...m.monitor.monitoredFeatures], ...m.monitor.snapshot() })),
    };
  };
  app.get("/v2/models/:model/monitoring", monitoring);
  app.get("/v2/models/:model/versions/:version/monitoring", monitoring);
}
