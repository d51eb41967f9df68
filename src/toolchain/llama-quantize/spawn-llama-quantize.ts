import { fork } from "node:child_process";
import { childEntry } from "../../core/child-call.js";
import { EdgeforgeError, errorCodes, type ErrorCode } from "../../core/errors.js";
import type { Reporter } from "../../core/logger.js";
import type { ChildMessage } from "./llama-quantize-child.js";
import type { NativeQuantizeRequest } from "./llama-quantize-native.js";

export interface LlamaQuantizeRunResult {
  libllama: string;
  llamaCppRelease: string | undefined;
  /** Every line llama.cpp logged, for provenance and debugging. */
  logLines: string[];
  durationNs: bigint;
}

const progressLine = /^\[\s*(\d+)\s*\/\s*(\d+)\]\s+(\S+)/;

/**
 * Run llama_model_quantize in a child process. llama.cpp's log lines arrive as debug log
 * messages; its per-tensor lines ("[ 3/39] blk.0.attn_q.weight …") drive `progress`.
 */
export async function spawnLlamaQuantize(request: NativeQuantizeRequest, reporter: Reporter = {}): Promise<LlamaQuantizeRunResult> {
  const { logger, progress, signal } = reporter;
  signal?.throwIfAborted();
  const entry = childEntry(import.meta.url, "llama-quantize-child");
  const started = process.hrtime.bigint();
  const child = fork(entry.path, [], {
    execArgv: entry.execArgv,
    serialization: "advanced",
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  const logLines: string[] = [];
  const errorLines: string[] = [];
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (text: string) => {
    stderr = (stderr + text).slice(-4000);
  });
  let progressStarted = false;
  let outcome: ChildMessage | undefined;

  child.on("message", (message: ChildMessage) => {
    if (message.type !== "log") {
      outcome = message;
      return;
    }
    logLines.push(message.line);
    if (message.level === "error") errorLines.push(message.line.trim());
    if (message.level === "warn") logger?.warn(`llama.cpp: ${message.line.trim()}`);
    else logger?.debug(`llama.cpp: ${message.line}`);
    const match = progressLine.exec(message.line);
    if (match && progress) {
      if (!progressStarted) progress.start("quantize", Number(match[2]));
      progressStarted = true;
      progress.update(Number(match[1]), match[3]);
    }
  });
  const onAbort = (): void => {
    child.kill("SIGKILL");
  };
  signal?.addEventListener("abort", onAbort, { once: true });

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }>((resolve) => {
    child.once("error", (spawnError) => resolve({ code: null, signal: null, spawnError }));
    child.once("exit", (code, exitSignal) => resolve({ code, signal: exitSignal }));
    child.send({ type: "quantize", request });
  });
  signal?.removeEventListener("abort", onAbort);
  signal?.throwIfAborted();
  if (progressStarted) progress?.finish();

  const finished = outcome;
  if (finished?.type === "error") {
    const code: ErrorCode = finished.error.code in errorCodes ? (finished.error.code as ErrorCode) : "RUNTIME_FAILED";
    throw new EdgeforgeError(code, finished.error.message, { hint: finished.error.hint, details: finished.error.details ?? {} });
  }
  if (finished?.type !== "result") {
    const how = exit.spawnError ? `could not start (${exit.spawnError.message})` : exit.signal ? `crashed (${exit.signal})` : `exited with code ${exit.code}`;
    throw new EdgeforgeError("RUNTIME_FAILED", `the llama.cpp quantization process ${how}`, {
      hint: "the input may be malformed in a way llama.cpp aborts on; rerun with EDGEFORGE_DEBUG=1 to see its log",
      details: { lastLogLines: logLines.slice(-20), stderr: stderr.trim() },
      cause: exit.spawnError,
    });
  }
  if (finished.code !== 0) throw quantizeFailure(errorLines, logLines);
  return { libllama: finished.libllama, llamaCppRelease: finished.release, logLines, durationNs: process.hrtime.bigint() - started };
}

/** Map llama.cpp's failure text to an error a user can act on. */
function quantizeFailure(errorLines: string[], logLines: string[]): EdgeforgeError {
  const reason =
    errorLines
      .map((line) => /failed to quantize: (.*)$/.exec(line)?.[1])
      .filter((text): text is string => text !== undefined)
      .pop() ?? errorLines.at(-1) ?? "unknown error";
  const details = { llamaCppError: reason, lastLogLines: logLines.slice(-20) };
  if (/imatrix|importance matrix/i.test(reason)) {
    return new EdgeforgeError("INVALID_OPTION", `llama.cpp refused: ${reason}`, {
      hint: "this type needs an importance matrix: pass --imatrix FILE (a llama-imatrix .gguf or legacy .dat file)",
      details,
    });
  }
  if (/requantizing from type/i.test(reason)) {
    return new EdgeforgeError("INVALID_OPTION", `llama.cpp refused: ${reason}`, {
      hint: "the input is already quantized; pass --allow-requantize (quality suffers), or start from the F16/F32 model",
      details,
    });
  }
  return new EdgeforgeError("RUNTIME_FAILED", `llama.cpp failed to quantize: ${reason}`, {
    hint: "check that the input is a llama.cpp-compatible GGUF; rerun with EDGEFORGE_DEBUG=1 to see llama.cpp's log",
    details,
  });
}
