import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { EdgeforgeError } from "../core/errors.js";
import type { MetricName } from "../pareto/metric-catalog.js";
import { chooseLighterVariant, type VariantFacts } from "../rollout/lighter-variant.js";
import { defaultAnalysis, defaultIntervalMs } from "../rollout/rollout-plan.js";
import { parseJsonBody } from "./parse-json-body.js";
import type { RolloutController } from "./rollout-controller.js";
import type { ServerContext } from "./server-context.js";

/** Alertmanager's webhook payload, version 4 (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config). */
const alertSchema = z.object({
  status: z.enum(["firing", "resolved"]),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()).default({}),
  startsAt: z.string().optional(),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
});

const payloadSchema = z.object({
  version: z.literal("4"),
  status: z.enum(["firing", "resolved"]),
  receiver: z.string().optional(),
  groupKey: z.string().optional(),
  truncatedAlerts: z.number().int().min(0).optional(),
  groupLabels: z.record(z.string(), z.string()).optional(),
  commonLabels: z.record(z.string(), z.string()).optional(),
  commonAnnotations: z.record(z.string(), z.string()).optional(),
  externalURL: z.string().optional(),
  alerts: z.array(alertSchema).max(1000),
});

type Alert = z.infer<typeof alertSchema>;

export type AlertAction = "switched-to-lighter-variant" | "rolled-back" | "marked-for-recalibration" | "none";

export interface AlertResult {
  alertname: string;
  model?: string;
  version?: string;
  status: Alert["status"];
  action: AlertAction;
  detail: string;
}

const actor = "alertmanager";
const latencyAlerts = new Set(["EdgeforgeLatencyP95High", "EdgeforgeLatencyP99High"]);
export const recalibrationMark = "needs-recalibration";

/**
 * `POST /v2/alerts/alertmanager` (admin token; Alertmanager's `http_config.authorization`): automated resolution.
 * Latency alert → the next lighter certified variant on the model's Pareto frontier takes the traffic (as a
 * rollout at 100 %, so `rollout abort` reverses it and its analysis guards it); error-rate alert during a
 * rollout → rollback; drift alert → the version is marked for recalibration and keeps serving. Every alert
 * and action is written to the model's events in the registry with the server's own measured values.
 */
export function registerAlertmanagerRoutes(app: FastifyInstance, context: ServerContext, rollouts: RolloutController): void {
  const measured = (model: string, version: string | undefined): Record<string, unknown> => {
    const served = context.repository.list().find((m) => m.spec.name === model && (version === undefined || m.spec.version === version));
    if (!served) return {};
    const snapshot = served.monitor.snapshot();
    return { latencyMs: snapshot.latencyMs, errorRate: snapshot.errorRate, throughputRps: snapshot.throughputRps, windowRequests: snapshot.window.requests, drift: { status: snapshot.drift.status, drifted: snapshot.drift.drifted, driftedShare: snapshot.drift.driftedShare } };
  };

  const lighterVariant = (registryModel: string, current: string) => {
    const registry = rollouts.requireRegistry();
    const facts: VariantFacts[] = registry.showModel(registryModel).versions.map((v) => {
      const metrics: Partial<Record<MetricName, number>> = {};
      for (const evaluation of v.evaluations) for (const metric of evaluation.metrics) metrics[metric.name as MetricName] = metric.value;
      return { version: v.version, certified: v.certifications[0]?.approved === true, sizeBytes: v.artifact.sizeBytes, metrics };
    });
    return chooseLighterVariant(facts, current);
  };

  const act = async (alert: Alert): Promise<AlertResult> => {
    const alertname = alert.labels.alertname ?? "(unnamed)";
    const model = alert.labels.model;
    const version = alert.labels.version;
    const base = { alertname, ...(model === undefined ? {} : { model }), ...(version === undefined ? {} : { version }), status: alert.status };
    if (model === undefined) return { ...base, action: "none", detail: "the alert has no model label" };
    let registryModel: string;
    try {
      registryModel = rollouts.registryModelOf(model);
      rollouts.requireRegistry();
    } catch (error) {
      return { ...base, action: "none", detail: error instanceof Error ? error.message : String(error) };
    }
    const registry = rollouts.requireRegistry();
    const values = measured(model, version);
    const details = { alertname, labels: alert.labels, annotations: alert.annotations, startsAt: alert.startsAt ?? null, fingerprint: alert.fingerprint ?? null, measured: values };
    const knownVersion = version !== undefined && registry.showModel(registryModel).versions.some((v) => v.version === version) ? version : undefined;
    const record = (action: AlertAction, detail: string): AlertResult => {
      registry.events.record({ model: registryModel, kind: alert.status === "firing" ? "alert-received" : "alert-resolved", ...(knownVersion ? { version: knownVersion } : {}), details: { ...details, action, detail }, actor });
      context.logger.info(`alert ${alertname} (${alert.status}) for ${model}${version ? `:${version}` : ""}: ${action} — ${detail}`);
      return { ...base, action, detail };
    };
    if (alert.status === "resolved") return record("none", "resolved alerts are recorded only; actions are reversed by an operator (rollout abort, registry unmark, registry alias set)");

    if (alertname === "EdgeforgeErrorRateHigh") {
      if (!rollouts.isRunning(model)) return record("none", "no rollout in progress: nothing to roll back; the model keeps serving");
      await rollouts.abort(model, { actor, outcome: "rolled-back", command: "alertmanager webhook", reason: `${alertname} fired${alert.annotations.summary ? `: ${alert.annotations.summary}` : ""}`, details });
      return record("rolled-back", "the running rollout was rolled back: traffic 100 % to the stable version, candidate alias moved back");
    }

    if (latencyAlerts.has(alertname)) {
      if (rollouts.isRunning(model)) return record("none", "a rollout is in progress: its analysis judges the candidate's latency; no second switch");
      const stable = rollouts.status(model).stable.version;
      const choice = lighterVariant(registryModel, stable);
      if (choice.version === undefined) return record("none", `no lighter variant to switch to: ${choice.reason}; the model keeps serving ${stable}`);
      const plan = { strategy: "canary", steps: [100], intervalMs: defaultIntervalMs, analysis: defaultAnalysis };
      try {
        await rollouts.start(model, { candidate: choice.version, plan, actor });
      } catch (error) {
        return record("none", `switching to ${choice.version} failed and was rolled back: ${error instanceof Error ? error.message : String(error)}`);
      }
      return record("switched-to-lighter-variant", `${stable} → ${choice.version} at 100 % (${choice.reason}); guarded by a rollout analysis every ${defaultIntervalMs / 1000} s, reversed by \`edgeforge rollout abort ${model}\``);
    }

    if (alertname === "EdgeforgeDriftDetected") {
      if (!knownVersion) return record("none", `the alert names no registered version of ${registryModel}`);
      registry.events.mark({ model: registryModel, version: knownVersion, mark: recalibrationMark, reason: `${alertname} fired${alert.annotations.summary ? `: ${alert.annotations.summary}` : ""}`, details, actor });
      return record("marked-for-recalibration", `${registryModel}@${knownVersion} is marked ${recalibrationMark} and keeps serving; clear it with \`edgeforge registry unmark ${registryModel} ${knownVersion} ${recalibrationMark}\``);
    }

    return record("none", `no automated action for ${alertname}; recorded`);
  };

  app.post("/v2/alerts/alertmanager", { config: { auth: "admin" } }, async (request: FastifyRequest) => {
    const payload = parseJsonBody(payloadSchema, request.body, "send Alertmanager's webhook payload (version \"4\"); docs/rollout.md");
    if (payload.alerts.length === 0) throw new EdgeforgeError("INVALID_OPTION", "the notification holds no alerts", { hint: "Alertmanager sends at least one alert per notification" });
    const results: AlertResult[] = [];
    // One at a time, in order: two alerts for one model must not race (e.g. a switch and a rollback).
    for (const alert of payload.alerts) results.push(await act(alert));
    return { results };
  });
}
