import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Command, InvalidArgumentError } from "commander";
import { resolveRegistryPath } from "../../api/registry.js";
import { parseServeConfig, resolveModelArgument, type ServeConfigInput, type ServedModelSpec } from "../../api/serve.js";
import { EdgeforgeError } from "../../core/errors.js";
import { parseSizeBytes } from "../../core/units.js";
import { collect, millisecondsParser, parsePositiveInt } from "../options.js";

/** The server's own entry point: cli/ starts it as a process rather than importing server/. */
const serverEntry = fileURLToPath(new URL("../../server/serve-main.js", import.meta.url));

interface ServeFlags {
  model: string[];
  host: string;
  port: number;
  queueDepth?: number;
  deadline?: number;
  maxBody?: number;
  threads?: number;
  ctx?: number;
  tokenFile?: string;
  auth?: string;
  drain?: number;
  requireSignature?: boolean;
  registry?: string;
  isolation?: string;
  key?: string;
  reference: string[];
  certification: string[];
  referenceRows?: number;
  monitorWindow?: number;
  monitorInterval?: number;
  driftMethod?: string;
}

/** `--reference [NAME=]DATASET`, `--certification [NAME=]PATH`: without a name it belongs to the only model served. */
function attachPerModel(models: ServedModelSpec[], values: string[], field: "reference" | "certification"): ServedModelSpec[] {
  const byName = new Map<string, string>();
  for (const argument of values) {
    const equals = argument.indexOf("=");
    const name = equals >= 0 ? argument.slice(0, equals) : models.length === 1 ? models[0]!.name : undefined;
    if (name === undefined) throw new EdgeforgeError("INVALID_OPTION", `--${field} ${argument} names no model and ${models.length} are served`, { hint: `use --${field} NAME=${field === "reference" ? "DATASET" : "PATH"}` });
    if (!models.some((m) => m.name === name)) throw new EdgeforgeError("INVALID_OPTION", `--${field} ${argument}: no served model is named "${name}"`, { hint: `served: ${models.map((m) => m.name).join(", ")}` });
    byName.set(name, resolve(equals >= 0 ? argument.slice(equals + 1) : argument));
  }
  return models.map((m) => (byName.has(m.name) ? { ...m, [field]: byName.get(m.name)! } : m));
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError("expected a port 0..65535 (0: any free port)");
  return port;
}

function parseNonNegative(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError("expected a non-negative integer");
  return parsed;
}

function parseSize(value: string): number {
  const bytes = parseSizeBytes(value);
  if (bytes === undefined || bytes <= 0) throw new InvalidArgumentError("expected a size such as 64MB or 1048576");
  return bytes;
}

export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("Serve models over HTTP: Open Inference Protocol (KServe v2) for ONNX, OpenAI-compatible API for GGUF, Prometheus /metrics")
    .requiredOption("--model <spec>", "a model to serve: PATH, NAME=PATH, NAME:VERSION=PATH or a registry reference model@alias (repeatable)", collect, [])
    .option("--registry <path>", "registry database for model@alias references (default: EDGEFORGE_REGISTRY or ~/.edgeforge/registry.db)")
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .option("--port <port>", "port (0: any free port; the URL is printed)", parsePort, 8080)
    .option("--queue-depth <n>", "requests waiting per model before 429 (default 32)", parseNonNegative)
    .option("--deadline <duration>", "default request deadline, ms or with a unit (30000, 30s); clients may ask for less with Request-Timeout-Ms (default 30s)", millisecondsParser(1))
    .option("--max-body <size>", "largest request body, e.g. 64MB (default 64MiB)", parseSize)
    .option("--threads <n>", "compute threads per model worker", parsePositiveInt)
    .option("--ctx <tokens>", "llama.cpp context size for GGUF models", parsePositiveInt)
    .option("--token-file <path>", "bearer tokens, one a line (env EDGEFORGE_SERVE_TOKENS, comma-separated, also counts); admin routes require one")
    .option("--auth <scope>", "'inference': require a bearer token on inference routes too")
    .option("--require-signature", "load a model only if its signature (<model>.sig, OMS) verifies with --key")
    .option("--key <pub.pem>", "public key for --require-signature")
    .option("--isolation <mode>", "process (default: a crashing model takes only its own process down) or thread (no tensor copies, no crash isolation)")
    .option("--drain <duration>", "how long SIGTERM waits for in-flight requests, ms or with a unit (default 10s)", millisecondsParser(0))
    .option("--reference <[name=]dataset>", "drift reference: a dataset (image folder, .npy folder, JSON/JSONL, as for eval) run through the model at load; for a GGUF model, prompts (one per line, .jsonl with prompt or messages, or a .json array) (repeatable, one per model)", collect, [])
    .option("--certification <[name=]path>", "certification.json (or its folder) from edgeforge certify, summarized on /dashboard (repeatable, one per model)", collect, [])
    .option("--reference-rows <n>", "reference samples read at most (default 5000)", parsePositiveInt)
    .option("--monitor-window <n>", "requests per version in the monitoring window (default 500)", parsePositiveInt)
    .option("--monitor-interval <duration>", "how often drift is recomputed, ms or with a unit (default 5s)", millisecondsParser(1))
    .option("--drift-method <method>", "auto (KS / chi-square up to 1,000 reference rows, Wasserstein / Jensen–Shannon above) or psi")
    .action(async (flags: ServeFlags) => {
      if (flags.auth !== undefined && flags.auth !== "inference") throw new EdgeforgeError("INVALID_OPTION", `--auth takes "inference", not "${flags.auth}"`, { hint: "admin routes always need a token; --auth inference adds the inference routes" });
      if ((flags.requireSignature === true) !== (flags.key !== undefined)) throw new EdgeforgeError("INVALID_OPTION", "--require-signature and --key go together", { hint: "edgeforge serve --require-signature --key PUB.pem --model …" });
      const models = attachPerModel(attachPerModel(await Promise.all(flags.model.map((argument) => resolveModelArgument(argument, flags.registry))), flags.reference, "reference"), flags.certification, "certification");
      const input: ServeConfigInput = {
        models,
        // Rollouts and automated actions need the registry the models came from.
        ...(flags.registry !== undefined || models.some((m) => m.source !== undefined) ? { registry: resolveRegistryPath(flags.registry) } : {}),
        host: flags.host,
        port: flags.port,
        ...(flags.queueDepth === undefined ? {} : { queueDepth: flags.queueDepth }),
        ...(flags.deadline === undefined ? {} : { deadlineMs: flags.deadline }),
        ...(flags.maxBody === undefined ? {} : { maxBodyBytes: flags.maxBody }),
        ...(flags.threads === undefined ? {} : { threads: flags.threads }),
        ...(flags.ctx === undefined ? {} : { contextSize: flags.ctx }),
        ...(flags.tokenFile === undefined ? {} : { tokenFile: flags.tokenFile }),
        ...(flags.drain === undefined ? {} : { drainMs: flags.drain }),
        authInference: flags.auth === "inference",
        ...(flags.isolation === undefined ? {} : { isolation: flags.isolation as "process" | "thread" }),
        ...(flags.key === undefined ? {} : { signatureKey: resolve(flags.key) }),
        monitoring: {
          ...(flags.monitorWindow === undefined ? {} : { windowRequests: flags.monitorWindow }),
          ...(flags.monitorInterval === undefined ? {} : { intervalMs: flags.monitorInterval }),
          ...(flags.driftMethod === undefined ? {} : { driftMethod: flags.driftMethod as "auto" | "psi" }),
          ...(flags.referenceRows === undefined ? {} : { referenceRows: flags.referenceRows }),
        },
      };
      const config = parseServeConfig(input);
      // The IPC channel is the lifeline: if this process dies, the server sees it close and shuts down.
      const child = spawn(process.execPath, [serverEntry, JSON.stringify(config)], { stdio: ["inherit", "inherit", "inherit", "ipc"] });
      const forward = (signal: NodeJS.Signals): void => {
        child.kill(signal);
      };
      process.on("SIGTERM", forward);
      process.on("SIGINT", forward);
      const code = await new Promise<number>((resolve) => child.on("exit", (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0))));
      process.off("SIGTERM", forward);
      process.off("SIGINT", forward);
      process.exitCode = code;
    });
}
