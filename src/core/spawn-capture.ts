import { execFile } from "node:child_process";

export type CommandResult =
  | { ok: true; stdout: string; stderr: string }
  | {
      ok: false;
      /** The binary is not installed (ENOENT). */
      missing: boolean;
      /** The tool's exit status, when it ran to an exit. */
      exitCode?: number;
      /** One line: not found, timed out, or the tool's error. */
      reason: string;
      stdout: string;
      stderr: string;
    };

export interface CaptureOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  cwd?: string;
  /** Output kept per stream; default 4 MiB. */
  maxBufferBytes?: number;
}

/**
 * Run a tool (git, promtool, npm, nvidia-smi, sysctl, python3) with a time limit and capture its
 * output. A missing binary, a non-zero exit or a timeout is a result, not an exception: each caller
 * decides whether that is an unknown fact, an unavailable feature or an error of its own.
 */
export function spawnCapture(command: string, args: readonly string[], options: CaptureOptions): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        timeout: options.timeoutMs,
        encoding: "utf8",
        maxBuffer: options.maxBufferBytes ?? 4 * 1024 * 1024,
        windowsHide: true,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.cwd ? { cwd: options.cwd } : {}),
      },
      (error, stdout, stderr) => {
        if (!error) return resolve({ ok: true, stdout, stderr });
        const code = (error as NodeJS.ErrnoException | { code?: unknown }).code;
        const missing = code === "ENOENT";
        const reason = missing
          ? `${command} not found`
          : error.killed
            ? `${command} timed out after ${options.timeoutMs} ms`
            : `${command} failed: ${(stderr.trim().split("\n").at(-1) || error.message.split("\n")[0]) ?? ""}`;
        resolve({ ok: false, missing, ...(typeof code === "number" ? { exitCode: code } : {}), reason, stdout, stderr });
      },
    );
  });
}
