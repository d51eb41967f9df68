import type { FastifyInstance } from "fastify";
import { EdgeforgeError } from "../core/errors.js";
import { readCertificationFacts, summarizeCertification, type CertificationSummary } from "../deploy/certification-facts.js";
import { renderDashboardPage } from "./dashboard-page.js";
import type { ServerContext } from "./server-context.js";

/** Per served version: what the dashboard lists, and its certification (read once, on first request). */
export interface DashboardModel {
  name: string;
  version: string;
  format: "onnx" | "gguf";
  state: string;
  source?: string;
  /** Why the events route cannot answer for this model (it needs a registry model on a server with a registry). */
  eventsUnavailable?: string;
  certification: CertificationSummary | null;
  certificationError?: string;
}

export interface DashboardIndex {
  server: { startedAt: string };
  /** Which of the server's JSON routes exist here, so the page asks only for those. */
  endpoints: { monitoring: boolean; rollout: boolean; events: boolean };
  models: DashboardModel[];
}

/** GET /dashboard (one self-contained page) and GET /dashboard/models (its index). */
export function registerDashboardRoutes(app: FastifyInstance, context: ServerContext): void {
  const { repository, logger, config } = context;
  const startedAt = new Date().toISOString();
  const certifications = new Map<string, Promise<{ summary: CertificationSummary | null; error?: string }>>();
  const certificationOf = (key: string, path: string | undefined): Promise<{ summary: CertificationSummary | null; error?: string }> => {
    let entry = certifications.get(key);
    if (!entry) {
      entry = path === undefined
        ? Promise.resolve({ summary: null })
        : readCertificationFacts(path).then(
            (facts) => ({ summary: summarizeCertification(facts) }),
            (error: unknown) => {
              const message = EdgeforgeError.isInstance(error) ? `${error.code}: ${error.message}` : String(error);
              logger.warn(`dashboard: certification ${path} of ${key}: ${message}`);
              return { summary: null, error: message };
            },
          );
      certifications.set(key, entry);
    }
    return entry;
  };
  const hasRoute = (url: string): boolean => app.hasRoute({ method: "GET", url });

  app.get("/dashboard", async (_request, reply) => reply.type("text/html; charset=utf-8").header("Cache-Control", "no-store").send(renderDashboardPage()));
  app.get("/dashboard/models", async (): Promise<DashboardIndex> => ({
    server: { startedAt },
    endpoints: { monitoring: hasRoute("/v2/models/:model/monitoring"), rollout: hasRoute("/v2/models/:model/rollout"), events: hasRoute("/v2/models/:model/events") },
    models: await Promise.all(
      repository.list().map(async (model) => {
        const key = `${model.spec.name}:${model.spec.version}`;
        const certification = await certificationOf(key, model.spec.certification);
        return {
          name: model.spec.name,
          version: model.spec.version,
          format: model.format,
          state: model.unloaded ? "unloaded" : model.worker.state,
          ...(model.spec.source ? { source: model.spec.source } : {}),
          ...(config.registry === undefined ? { eventsUnavailable: "the server has no registry (serve --registry)" } : model.spec.source === undefined ? { eventsUnavailable: "served from a file, not from the registry" } : {}),
          certification: certification.summary,
          ...(certification.error ? { certificationError: certification.error } : {}),
        };
      }),
    ),
  }));
}
