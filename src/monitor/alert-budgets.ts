import { readFile } from "node:fs/promises";
import { z } from "zod";
import { EdgeforgeError, fileError } from "../core/errors.js";
import { resolveRegistryModel } from "../registry/resolve-registry-model.js";

/** The histogram the latency budgets apply to, as the server exports it. */
export interface LatencySeries {
  /** Histogram name, without `_bucket`. */
  metric: "edgeforge_request_duration_seconds" | "edgeforge_time_to_first_token_seconds";
  /** Label matchers added to the model's (`,status=~"2.."`: successful requests only). */
  matchers: string;
  /** What is timed, short, for alert summaries and panel titles. */
  name: "latency" | "time to first token";
  /** Which requests and what part of them, for rule descriptions. */
  covers: string;
}

/**
 * The series a certification's latency budgets describe: certify times an LLM (GGUF, MLX) on prompts alone, so a served
 * LLM is watched on its time to first token; a whole completion's time grows with the tokens the client asks for.
 */
export function latencySeriesFor(format: string | undefined): LatencySeries {
  return format === "gguf" || format === "mlx"
    ? { metric: "edgeforge_time_to_first_token_seconds", matchers: "", name: "time to first token", covers: "from a request's arrival to its first generated text" }
    : { metric: "edgeforge_request_duration_seconds", matchers: ',status=~"2.."', name: "latency", covers: "of requests answered 2xx" };
}

/** The thresholds the alert rules watch, with where each came from. */
export interface AlertBudgets {
  /** The served model name the rules select (`model` label). */
  model: string;
  /** The series p95Ms and p99Ms are judged on. */
  latency: LatencySeries;
  p95Ms: number;
  p99Ms: number;
  /** Share of 5xx answers (0..1). */
  errorRate: number;
  /** EdgeforgeThroughputDrop: requests/s below this share of the rate one hour earlier. */
  throughputDropShare: number;
  /** The earlier rate must be at least this (req/s) for a drop to count. */
  minBaselineRps: number;
  /** e.g. "certification rec@production (registry …)" or the certification.json path. */
  source: string;
}

export const defaultThroughputDropShare = 0.5;
export const defaultMinBaselineRps = 0.1;

/** certification.json's `monitoring` block as the alert rules read it (budgets of 0 / null mean "none measured"). */
const monitoringBlockSchema = z.object({
  artifact: z.object({ format: z.string() }).optional(),
  monitoring: z.object({
    latency: z.object({ p95BudgetMs: z.number().nullable(), p99BudgetMs: z.number().nullable() }),
    errorRateThreshold: z.number().min(0).max(1),
  }),
});

export interface BudgetOverrides {
  p95Ms?: number;
  p99Ms?: number;
  errorRate?: number;
  throughputDropShare?: number;
  minBaselineRps?: number;
}

/** Budgets from a certification document; flags override it (flags > certificate). */
export function alertBudgetsFromCertification(model: string, certificate: unknown, source: string, overrides: BudgetOverrides = {}): AlertBudgets {
  const parsed = monitoringBlockSchema.safeParse(certificate);
  if (!parsed.success) {
    throw new EdgeforgeError("INVALID_CONFIG", `${source} has no certification monitoring block (monitoring.latency.p95BudgetMs / p99BudgetMs, monitoring.errorRateThreshold)`, {
      hint: "pass a certification.json written by edgeforge certify",
      details: { issues: parsed.error.issues },
    });
  }
  const { latency, errorRateThreshold } = parsed.data.monitoring;
  const budget = (override: number | undefined, certified: number | null, name: string, flag: string): number => {
    const value = override ?? certified;
    if (value === null || !Number.isFinite(value) || value <= 0) {
      throw new EdgeforgeError("INVALID_CONFIG", `${source} records no ${name} budget`, { hint: `pass ${flag} MS (certify measured no latency for it)` });
    }
    return value;
  };
  return {
    model,
    latency: latencySeriesFor(parsed.data.artifact?.format),
    p95Ms: budget(overrides.p95Ms, latency.p95BudgetMs, "p95", "--p95-ms"),
    p99Ms: budget(overrides.p99Ms, latency.p99BudgetMs, "p99", "--p99-ms"),
    errorRate: overrides.errorRate ?? errorRateThreshold,
    throughputDropShare: overrides.throughputDropShare ?? defaultThroughputDropShare,
    minBaselineRps: overrides.minBaselineRps ?? defaultMinBaselineRps,
    source,
  };
}

/** Budgets from a certification.json file. */
export async function readAlertBudgetsFromFile(model: string, path: string, overrides: BudgetOverrides = {}, signal?: AbortSignal): Promise<AlertBudgets> {
  let text: string;
  try {
    text = await readFile(path, { encoding: "utf8", signal });
  } catch (error) {
    throw fileError(error, path, "read");
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new EdgeforgeError("INVALID_CONFIG", `${path} is not JSON: ${(error as Error).message}`, { hint: "pass the certification.json written by edgeforge certify" });
  }
  return alertBudgetsFromCertification(model, document, path, overrides);
}

/** Budgets from the newest certification of `ref` (`name@alias`, `name@version`, `name`) in the registry. */
export function readAlertBudgetsFromRegistry(ref: string, registryPath: string | undefined, overrides: BudgetOverrides = {}, model?: string): AlertBudgets {
  const resolved = resolveRegistryModel(ref, registryPath);
  if (!resolved.certification) {
    throw new EdgeforgeError("REGISTRY_NOT_FOUND", `${ref} (${resolved.model}@${resolved.version}) has no certification in the registry`, {
      hint: "certify it with `edgeforge certify … --register NAME`, or pass --certificate certification.json",
    });
  }
  return alertBudgetsFromCertification(model ?? resolved.model, resolved.certification.certificate, `certification of ${resolved.model}@${resolved.version} (registry)`, overrides);
}
