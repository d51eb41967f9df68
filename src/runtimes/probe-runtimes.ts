import { fork } from "node:child_process";
import { createRequire } from "node:module";
import { extname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { RuntimeAvailability } from "../hardware/runtime-availability.js";
import { findInstalledPackage } from "./find-installed-package.js";
import { spawnMlxProbe } from "./probe-mlx.js";
import type { BackendProbe, ProbeChildMessage, RuntimeProbe } from "./runtime-probe.js";

type ChildEngine = "onnxruntime" | "llama.cpp" | "openvino";

const childEngines: Record<ChildEngine, Pick<RuntimeProbe, "runtime" | "framework" | "packageName">> = {
  onnxruntime: { runtime: "ort", framework: "onnxruntime", packageName: "onnxruntime-node" },
  "llama.cpp": { runtime: "llama-cpp", framework: "llama.cpp", packageName: "node-llama-cpp" },
  openvino: { runtime: "openvino", framework: "openvino", packageName: "openvino-node" },
};

export interface ProbeRuntimesOptions {
  signal?: AbortSignal;
  /** Per-engine limit; a first CUDA initialisation can take seconds. Default 30 000 ms. */
  timeoutMs?: number;
}

const defaultTimeoutMs = 30_000;
const stderrTailBytes = 4096;

/** The child runs as compiled JS from dist/, or as TypeScript through tsx when this module is itself TypeScript (tests). */
function childCommand(): { path: string; execArgv: string[] } {
  const extension = extname(fileURLToPath(import.meta.url));
  const path = fileURLToPath(new URL(`./probe-runtimes-child${extension}`, import.meta.url));
  if (extension !== ".ts") return { path, execArgv: [] };
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  return { path, execArgv: ["--import", tsxLoader] };
}

// ANSI colour codes that native loggers add to their lines.
const ansiColour = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

function lastLine(text: string): string | undefined {
  const cleaned = text.replace(ansiColour, "");
  return cleaned
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .at(-1);
}

/** Run one engine's probe in a child process, with a time limit; a crash or a hang becomes a reason, not an exception. */
export function spawnEngineProbe(engine: ChildEngine, options: ProbeRuntimesOptions = {}): Promise<RuntimeProbe> {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const started = process.hrtime.bigint();
  const { path, execArgv } = childCommand();
  return new Promise((resolve, reject) => {
    const child = fork(path, [engine], { execArgv, stdio: ["ignore", "ignore", "pipe", "ipc"], serialization: "json" });
    const partial: BackendProbe[] = [];
    let finalProbe: RuntimeProbe | undefined;
    let stderrTail = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    const onAbort = () => child.kill("SIGKILL");
    options.signal?.addEventListener("abort", onAbort, { once: true });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString("utf8")).slice(-stderrTailBytes);
    });
    child.on("message", (message: ProbeChildMessage) => {
      if (message.type === "backend") partial.push(message.backend);
      else finalProbe = message.probe;
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      if (options.signal?.aborted) return reject(options.signal.reason);
      if (finalProbe) return resolve(finalProbe);
      const why = timedOut
        ? `probe timed out after ${timeoutMs} ms`
        : `probe process exited with ${signal ? `signal ${signal}` : `code ${String(code)}`}${lastLine(stderrTail) ? `: ${lastLine(stderrTail)}` : ""}`;
      resolve({
        ...childEngines[engine],
        installed: true,
        available: partial.some((backend) => backend.works),
        reason: why,
        backends: partial,
        details: {},
        durationMs: Number(process.hrtime.bigint() - started) / 1e6,
      });
    });
  });
}

function notInstalled(engine: ChildEngine): RuntimeProbe {
  const identity = childEngines[engine];
  return { ...identity, installed: false, available: false, reason: `${identity.packageName} is not installed`, backends: [], details: {}, durationMs: 0 };
}

/**
 * Prove what each runtime can do here by running a tiny model (ONNX Runtime, OpenVINO) or loading
 * its builds (llama.cpp), each in its own child process, in parallel. Packages that are not
 * installed are reported without spawning anything.
 */
export async function probeRuntimes(options: ProbeRuntimesOptions = {}): Promise<RuntimeProbe[]> {
  options.signal?.throwIfAborted();
  const engines = Object.keys(childEngines) as ChildEngine[];
  const probes = await Promise.all([
    ...engines.map(async (engine) =>
      (await findInstalledPackage(childEngines[engine].packageName)) ? spawnEngineProbe(engine, options) : notInstalled(engine),
    ),
    spawnMlxProbe({ timeoutMs: options.timeoutMs ?? defaultTimeoutMs, ...(options.signal ? { signal: options.signal } : {}) }),
  ]);
  return probes;
}

/** What the decision tree needs from probes: installed or not, and which backends work. */
export function summarizeRuntimeAvailability(probes: readonly RuntimeProbe[]): RuntimeAvailability[] {
  return probes.map((probe) => ({
    framework: probe.framework,
    packageName: probe.packageName,
    installed: probe.installed,
    ...(probe.version ? { version: probe.version } : {}),
    workingBackends: probe.backends.filter((backend) => backend.works).map((backend) => backend.backend),
    ...(probe.reason ? { reason: probe.reason } : {}),
  }));
}

/** Installed runtime packages, found without loading any of them (for named targets, where local backends do not matter). */
export async function findInstalledRuntimes(): Promise<RuntimeAvailability[]> {
  const engines = Object.values(childEngines);
  const nodePackages = await Promise.all(
    engines.map(async ({ framework, packageName }): Promise<RuntimeAvailability> => {
      const found = await findInstalledPackage(packageName);
      return found
        ? { framework, packageName, installed: true, version: found.version }
        : { framework, packageName, installed: false, reason: `${packageName} is not installed` };
    }),
  );
  const mlx = await spawnMlxProbe({ timeoutMs: defaultTimeoutMs });
  return [
    ...nodePackages,
    { framework: "mlx", packageName: mlx.packageName, installed: mlx.available, ...(mlx.version ? { version: mlx.version } : {}), ...(mlx.reason ? { reason: mlx.reason } : {}) },
  ];
}
