import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type Command, InvalidArgumentError } from "commander";
import { parseModelArgument, parseServeConfig, type ServeConfigInput } from "../../api/serve.js";
import { parseSizeBytes } from "../../core/units.js";
import { collect, parsePositiveInt } from "../options.js";

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
    .requiredOption("--model <spec>", "a model to serve: PATH, NAME=PATH or NAME:VERSION=PATH (repeatable)", collect, [])
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .option("--port <port>", "port (0: any free port; the URL is printed)", parsePort, 8080)
    .option("--queue-depth <n>", "requests waiting per model before 429 (default 32)", parseNonNegative)
    .option("--deadline <ms>", "default request deadline in ms; clients may ask for less with Request-Timeout-Ms (default 30000)", parsePositiveInt)
    .option("--max-body <size>", "largest request body, e.g. 64MB (default 64MiB)", parseSize)
    .option("--threads <n>", "compute threads per model worker", parsePositiveInt)
    .option("--ctx <tokens>", "llama.cpp context size for GGUF models", parsePositiveInt)
    .option("--token-file <path>", "bearer tokens, one a line (env EDGEFORGE_SERVE_TOKENS, comma-separated, also counts); admin routes require one")
    .option("--auth <scope>", "'inference': require a bearer token on inference routes too")
    .option("--drain <ms>", "how long SIGTERM waits for in-flight requests (default 10000)", parseNonNegative)
    .action(async (flags: ServeFlags) => {
      if (flags.auth !== undefined && flags.auth !== "inference") throw new InvalidArgumentError(`--auth takes "inference", not "${flags.auth}"`);
      const input: ServeConfigInput = {
        models: flags.model.map(parseModelArgument),
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
      };
      const config = parseServeConfig(input);
      const child = spawn(process.execPath, [serverEntry, JSON.stringify(config)], { stdio: "inherit" });
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
