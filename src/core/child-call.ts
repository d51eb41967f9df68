/**
 * Run one call in a child Node process, so a native abort (GGML_ASSERT, a segfault deep in an
 * engine) ends only the child and comes back as a typed error carrying the engine's own message.
 * Protocol over the IPC channel (advanced serialization: typed arrays and bigints cross intact):
 *   parent → child: { type: "call", request }
 *   child → parent: { type: "log" | "progress", … }*, then { type: "result", value } or { type: "error", error }
 */
import { fork } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { EdgeforgeError, errorCodes, type ErrorCode } from "./errors.js";
import type { Logger, Progress, Reporter } from "./logger.js";

type LogLevel = keyof Logger;
type ProgressCall = { method: "start"; label: string; total: number } | { method: "update"; done: number; note?: string } | { method: "finish"; note?: string };

export type ChildCallMessage =
  | { type: "log"; level: LogLevel; message: string }
  | { type: "progress"; call: ProgressCall }
  | { type: "result"; value: unknown }
  | { type: "error"; error: { code: string; message: string; hint?: string; details?: Record<string, unknown> } };

/**
 * The child module `name` beside the caller (`import.meta.url`) and the loader it needs: compiled
 * it is a .js file; from sources (tests, tsx) a .ts file that needs tsx's loader.
 */
export function childEntry(callerUrl: string, name: string): { path: string; execArgv: string[] } {
  const caller = fileURLToPath(callerUrl);
  const isTypeScript = caller.endsWith(".ts");
  const path = fileURLToPath(new URL(`./${name}.${isTypeScript ? "ts" : "js"}`, callerUrl));
  if (!isTypeScript) return { path, execArgv: [] };
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  return { path, execArgv: ["--import", tsxLoader] };
}

/** The last lines a native engine printed before dying (its assert or error text), for the error message. */
export function engineMessage(stderr: string): string | undefined {
  const lines = stderr.split("\n").map((line) => line.trim()).filter(Boolean);
  const telling = lines.filter((line) => /GGML_ASSERT|GGML_ABORT|error|failed|abort|terminate/i.test(line));
  return (telling.at(-1) ?? lines.at(-1))?.replace(/^.*\/(?=[^/]+:\d+: )/, "");
}

export interface ChildCallOptions extends Reporter {
  /** What the child does, for messages: "the llama.cpp evaluation". */
  what: string;
  env?: NodeJS.ProcessEnv;
}

/** Fork `entry` (a module that calls `answerParent`, see `childEntry`), send it `request`, and return its answer. */
export async function callInChild<T>(entry: { path: string; execArgv: string[] }, request: unknown, options: ChildCallOptions): Promise<T> {
  const { logger, progress, signal, what } = options;
  signal?.throwIfAborted();
  const child = fork(entry.path, [], {
    execArgv: entry.execArgv,
    serialization: "advanced",
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: options.env ?? process.env,
  });
  let stderr = "";
  const keep = (text: string): void => {
    stderr = (stderr + text).slice(-8000);
  };
  child.stdout?.setEncoding("utf8").on("data", keep);
  child.stderr?.setEncoding("utf8").on("data", keep);
  let outcome: ChildCallMessage | undefined;
  child.on("message", (message: ChildCallMessage) => {
    if (message.type === "log") logger?.[message.level](message.message);
    else if (message.type === "progress") forwardProgress(progress, message.call);
    else outcome = message;
  });
  const onAbort = (): void => {
    child.kill("SIGKILL");
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }>((resolve) => {
    child.once("error", (spawnError) => resolve({ code: null, signal: null, spawnError }));
    child.once("exit", (code, exitSignal) => resolve({ code, signal: exitSignal }));
    child.send({ type: "call", request });
  });
  signal?.removeEventListener("abort", onAbort);
  signal?.throwIfAborted();
  if (outcome?.type === "result") return outcome.value as T;
  if (outcome?.type === "error") {
    const code: ErrorCode = outcome.error.code in errorCodes ? (outcome.error.code as ErrorCode) : "RUNTIME_FAILED";
    throw new EdgeforgeError(code, outcome.error.message, { hint: outcome.error.hint, details: outcome.error.details ?? {} });
  }
  const how = exit.spawnError ? `could not start (${exit.spawnError.message})` : exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  const engine = engineMessage(stderr);
  throw new EdgeforgeError("RUNTIME_FAILED", `${what} ${how}${engine ? `: ${engine}` : ""}`, {
    hint: "the engine aborted on this model: it is malformed or uses something the engine cannot run (check `edgeforge inspect` for zero or missing hyper-parameters)",
    details: { signal: exit.signal, exitCode: exit.code, stderrTail: stderr.trim().slice(-2000) },
    cause: exit.spawnError,
  });
}

function forwardProgress(progress: Progress | undefined, call: ProgressCall): void {
  if (!progress) return;
  if (call.method === "start") progress.start(call.label, call.total);
  else if (call.method === "update") progress.update(call.done, call.note);
  else progress.finish(call.note);
}

function send(message: ChildCallMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) resolve();
    else process.send(message, undefined, undefined, () => resolve());
  });
}

/**
 * Child side: answer one `{ type: "call" }` message with `handler`, forwarding its logger and
 * progress to the parent, then exit. The child ends itself when the parent goes away.
 */
export function answerParent<Request>(handler: (request: Request, reporter: Reporter) => Promise<unknown>): void {
  exitWithParent();
  const reporter: Reporter = {
    logger: {
      info: (message) => void send({ type: "log", level: "info", message }),
      warn: (message) => void send({ type: "log", level: "warn", message }),
      debug: (message) => void send({ type: "log", level: "debug", message }),
    },
    progress: {
      start: (label, total) => void send({ type: "progress", call: { method: "start", label, total } }),
      update: (done, note) => void send({ type: "progress", call: { method: "update", done, ...(note === undefined ? {} : { note }) } }),
      finish: (note) => void send({ type: "progress", call: { method: "finish", ...(note === undefined ? {} : { note }) } }),
    },
  };
  process.once("message", (message: { type: string; request: Request }) => {
    if (message.type !== "call") return;
    void (async () => {
      try {
        await send({ type: "result", value: await handler(message.request, reporter) });
      } catch (error) {
        const wrapped = EdgeforgeError.isInstance(error) ? error : new EdgeforgeError("INTERNAL", error instanceof Error ? error.message : String(error));
        await send({ type: "error", error: { code: wrapped.code, message: wrapped.message, hint: wrapped.hint, details: wrapped.details } });
      }
      process.disconnect?.();
      process.exit(0);
    })();
  });
}

/**
 * End this child process when its parent dies (kill -9, a crash): through the IPC channel's
 * disconnect when there is one, else by noticing the parent id change (re-parented to init).
 * Without this an orphaned child keeps working, and writing, to completion.
 */
export function exitWithParent(pollMs = 500): void {
  const parent = process.ppid;
  if (process.send) process.once("disconnect", () => process.kill(process.pid, "SIGKILL"));
  setInterval(() => {
    if (process.ppid !== parent) process.kill(process.pid, "SIGKILL");
  }, pollMs).unref();
}
