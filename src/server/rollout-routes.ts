import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { parseJsonBody } from "./parse-json-body.js";
import type { RolloutController } from "./rollout-controller.js";

type ModelParams = { model: string };

const startSchema = z
  .object({
    candidate: z.string().min(1),
    plan: z.unknown(),
    stableAlias: z.string().min(1).optional(),
    candidateAlias: z.string().min(1).optional(),
    actor: z.string().min(1).max(200).optional(),
  })
  .strict();

const decisionSchema = z.object({ reason: z.string().min(1).max(2000).optional(), actor: z.string().min(1).max(200).optional() }).strict();

const hint = "see docs/rollout.md (edgeforge rollout start builds this request)";

/** Rollout status and operator actions, and a model's recent automated actions. Writes need an admin token. */
export function registerRolloutRoutes(app: FastifyInstance, rollouts: RolloutController): void {
  app.get("/v2/models/:model/rollout", { config: { auth: "inference" } }, async (request: FastifyRequest<{ Params: ModelParams }>) => rollouts.status(request.params.model));

  app.get("/v2/models/:model/events", { config: { auth: "inference" } }, async (request: FastifyRequest<{ Params: ModelParams; Querystring: { limit?: string } }>) => {
    const registry = rollouts.requireRegistry();
    const limit = Math.min(1000, Math.max(1, Number(request.query.limit ?? 100) || 100));
    return registry.events.list(rollouts.registryModelOf(request.params.model), { limit }).map((e) => ({ atIso: e.at, kind: e.kind, ...(e.version === undefined ? {} : { version: e.version }), ...(e.rolloutId === undefined ? {} : { rolloutId: e.rolloutId }), actor: e.actor, details: e.details }));
  });

  app.post("/v2/models/:model/rollout", { config: { auth: "admin" } }, async (request: FastifyRequest<{ Params: ModelParams }>) => rollouts.start(request.params.model, parseJsonBody(startSchema, request.body, hint)));

  app.post("/v2/models/:model/rollout/promote", { config: { auth: "admin" } }, async (request: FastifyRequest<{ Params: ModelParams }>) => {
    const body = parseJsonBody(decisionSchema, request.body, hint, true);
    return rollouts.promote(request.params.model, body.actor, body.reason);
  });

  app.post("/v2/models/:model/rollout/abort", { config: { auth: "admin" } }, async (request: FastifyRequest<{ Params: ModelParams }>) => {
    const body = parseJsonBody(decisionSchema, request.body, hint, true);
    return rollouts.abort(request.params.model, { ...(body.actor ? { actor: body.actor } : {}), ...(body.reason ? { reason: body.reason } : {}) });
  });
}
