import { basename, extname, resolve } from "node:path";
import { z } from "zod";
import { EdgeforgeError } from "../core/errors.js";
import { detectModelFormat } from "../formats/detect-format.js";
import { resolveRegistryModel } from "../registry/resolve-registry-model.js";
import { readPublicSigningKey, verifyModelSignature } from "../signing/model-signature.js";
import { verify } from "./signing.js";
import { pathExists } from "../core/path-exists.js";


const modelNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** One model the server offers: a name clients use, a version label, and where it comes from. */
export const servedModelSchema = z
  .object({
    name: z.string().regex(modelNamePattern, "names are letters, digits, '.', '_' and '-'"),
    version: z.string().regex(modelNamePattern).default("1"),
    path: z.string().min(1),
    /** Where it came from, for logs and metadata: a registry reference such as "rec@production". */
    source: z.string().optional(),
    /** An OMS bundle held by the registry's certification; otherwise `<path>.sig` is used. */
    signatureBundle: z.unknown().optional(),
    /** The drift reference: a dataset (as for eval) run once through an ONNX model when it loads, or a file of prompts for a GGUF model (monitor/prompt-features.ts). */
    reference: z.string().min(1).optional(),
    /** certification.json (or the folder holding it) from `edgeforge certify`: summarized on the dashboard. */
    certification: z.string().min(1).optional(),
  })
  .strict();

export type ServedModelSpec = z.infer<typeof servedModelSchema>;

/** Everything `edgeforge serve` is configured with; bearer tokens are never part of it (they come from a file or env). */
export const serveConfigSchema = z
  .object({
    models: z.array(servedModelSchema).min(1),
    host: z.string().min(1).default("127.0.0.1"),
    port: z.number().int().min(0).max(65535).default(8080),
    /** Requests waiting per model beyond the one running; more get 429. */
    queueDepth: z.number().int().min(0).max(100_000).default(32),
    /** Default request deadline; a request-timeout header may ask for less. */
    deadlineMs: z.number().int().positive().default(30_000),
    maxBodyBytes: z.number().int().positive().default(64 * 1024 * 1024),
    /** Compute threads per model worker. */
    threads: z.number().int().positive().optional(),
    /** llama.cpp context size for GGUF models. */
    contextSize: z.number().int().positive().optional(),
    /** File with one bearer token per line; env EDGEFORGE_SERVE_TOKENS (comma-separated) also counts. */
    tokenFile: z.string().min(1).optional(),
    /** Require a token on inference routes too (admin routes always require one). */
    authInference: z.boolean().default(false),
    /** Milliseconds SIGTERM waits for in-flight requests before exiting. */
    drainMs: z.number().int().min(0).default(10_000),
    /** "process" (default): a native crash takes down only that model; "thread": no tensor copies between server and worker, but no crash isolation. */
    isolation: z.enum(["process", "thread"]).default("process"),
    /** Public key (PEM): every model must carry a signature (`<model>.sig`) that verifies with it before it loads. */
    signatureKey: z.string().min(1).optional(),
    /** Live monitoring and drift (docs/monitor.md). */
    monitoring: z
      .object({
        /** The window: the most recent this many requests per version. */
        windowRequests: z.number().int().min(30).max(100_000).default(500),
        /** How often drift is recomputed (off the request path), when requests arrived since. */
        intervalMs: z.number().int().min(50).default(5000),
        /** "auto": KS / chi-square up to 1,000 reference rows, normalized Wasserstein / Jensen–Shannon above; "psi": PSI for every feature. */
        driftMethod: z.enum(["auto", "psi"]).default("auto"),
        /** Reference rows read from a --reference dataset at most. */
        referenceRows: z.number().int().positive().max(100_000).default(5000),
      })
      .strict()
      .default({ windowRequests: 500, intervalMs: 5000, driftMethod: "auto", referenceRows: 5000 }),
    /** Registry database: rollouts keep their state there, candidates load from it, automated actions are audited in it. */
    registry: z.string().min(1).optional(),
  })
  .strict();

export type ServeConfig = z.infer<typeof serveConfigSchema>;
export type ServeConfigInput = z.input<typeof serveConfigSchema>;

export function parseServeConfig(value: unknown): ServeConfig {
  const parsed = serveConfigSchema.safeParse(value);
  if (!parsed.success) {
    throw new EdgeforgeError("INVALID_OPTION", `invalid serve configuration: ${z.prettifyError(parsed.error)}`, {
      hint: "see `edgeforge serve --help`",
      details: { issues: parsed.error.issues },
    });
  }
  const names = new Set<string>();
  for (const model of parsed.data.models) {
    const key = `${model.name}/${model.version}`;
    if (names.has(key)) throw new EdgeforgeError("INVALID_OPTION", `model ${model.name} version ${model.version} is given twice`, { hint: "give each --model a distinct name=path" });
    names.add(key);
  }
  return parsed.data;
}

/**
 * `--model` values: `PATH`, `NAME=PATH`, `NAME:VERSION=PATH`, or a registry reference `model@alias`,
 * `model@version`, `NAME=model@alias`. A value that names an existing file is a path; otherwise a value
 * with `@` is looked up in the registry (`registryPath`, default EDGEFORGE_REGISTRY or ~/.edgeforge/registry.db).
 */
export async function resolveModelArgument(argument: string, registryPath?: string): Promise<ServedModelSpec> {
  const equals = argument.indexOf("=");
  const target = equals >= 0 ? argument.slice(equals + 1) : argument;
  const isFile = await pathExists(target);
  if (isFile || !/^[^@/\\]+@[^@/\\]+$/.test(target)) return parseModelArgument(argument);
  const resolved = resolveRegistryModel(target, registryPath);
  const label = equals >= 0 ? argument.slice(0, equals) : resolved.model;
  const [name = "", version = resolved.version] = label.split(":");
  const parsed = servedModelSchema.safeParse({
    name,
    version,
    path: resolved.artifact.path,
    source: target,
    ...(resolved.certification?.signatureBundle === undefined ? {} : { signatureBundle: resolved.certification.signatureBundle }),
  });
  if (!parsed.success) {
    throw new EdgeforgeError("INVALID_OPTION", `--model ${argument}: "${label}" (version ${version}) is not a valid served model name[:version]`, { hint: "name it explicitly: --model NAME=model@alias" });
  }
  return parsed.data;
}

/** `--model PATH`, `NAME=PATH` or `NAME:VERSION=PATH` (no registry lookup). */
export function parseModelArgument(argument: string): ServedModelSpec {
  const equals = argument.indexOf("=");
  const path = equals >= 0 ? argument.slice(equals + 1) : argument;
  const label = equals >= 0 ? argument.slice(0, equals) : basename(path, extname(path));
  const [name = "", version = "1"] = label.split(":");
  if (!path) throw new EdgeforgeError("INVALID_OPTION", `--model ${argument} names no file`, { hint: "use --model PATH or --model NAME=PATH" });
  const parsed = servedModelSchema.safeParse({ name, version, path: resolve(path) });
  if (!parsed.success) {
    throw new EdgeforgeError("INVALID_OPTION", `--model ${argument}: "${label}" is not a valid model name[:version]`, {
      hint: "names and versions use letters, digits, '.', '_' and '-' (e.g. --model rec:2=rec.onnx)",
    });
  }
  return parsed.data;
}

/** The format a served model is run as: ONNX models speak OIP, GGUF models the OpenAI API. */
export async function servedModelFormat(path: string): Promise<"onnx" | "gguf"> {
  const { format } = await detectModelFormat(path);
  if (format !== "onnx" && format !== "gguf") {
    throw new EdgeforgeError("UNSUPPORTED_FEATURE", `${path} is ${format}; edgeforge serve runs ONNX (Open Inference Protocol) and GGUF (OpenAI API) models`, {
      hint:
        format === "mlx"
          ? "serve the GGUF the MLX folder was exported from (MLX folders are for Apple silicon: mlx-lm's own server runs them)"
          : "convert it first (`edgeforge convert MODEL --to gguf`), then serve the GGUF",
      details: { path, format },
    });
  }
  return format;
}

/** The check run before each model load (start, restart, repository load) when signatures are required. */
export async function verifyServedModel(spec: ServedModelSpec, keyPath: string): Promise<void> {
  if (spec.signatureBundle === undefined) {
    await verify({ model: spec.path, key: keyPath });
    return;
  }
  await verifyModelSignature(spec.path, spec.signatureBundle, await readPublicSigningKey(keyPath));
}

export { checkOipConformance, renderConformanceTable, type ConformanceCheck, type ConformanceOptions, type ConformanceResult } from "../eval/oip-conformance.js";
