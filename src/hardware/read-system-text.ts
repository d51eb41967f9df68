import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";

/**
 * Hardware facts live in files that may be absent (containers, other OSes) or unreadable; a
 * missing fact is "unknown", so these readers return undefined (or the errno) instead of throwing.
 */
export type TextRead = { ok: true; text: string } | { ok: false; errno: string };

export async function readSystemText(path: string, signal?: AbortSignal): Promise<TextRead> {
  try {
    return { ok: true, text: await readFile(path, { encoding: "utf8", signal }) };
  } catch (error) {
    signal?.throwIfAborted();
    return { ok: false, errno: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
}

export async function readOptionalText(path: string, signal?: AbortSignal): Promise<string | undefined> {
  const read = await readSystemText(path, signal);
  return read.ok ? read.text : undefined;
}

export async function readOptionalDir(path: string): Promise<string[]> {
  try {
    return (await readdir(path)).sort();
  } catch {
    return [];
  }
}

export type CommandResult = { ok: true; stdout: string } | { ok: false; reason: string; stdout: string };

/** Run a tool (nvidia-smi, sysctl) with a time limit; a missing binary is a result, not an error. */
export function spawnCapture(
  command: string,
  args: readonly string[],
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { timeout: options.timeoutMs, signal: options.signal, encoding: "utf8", maxBuffer: 4 * 1024 * 1024, windowsHide: true },
      (error, stdout) => {
        if (!error) return resolve({ ok: true, stdout });
        const errno = (error as NodeJS.ErrnoException).code;
        const reason =
          errno === "ENOENT"
            ? `${command} not found`
            : error.killed
              ? `${command} timed out after ${options.timeoutMs} ms`
              : `${command} failed: ${error.message.split("\n")[0] ?? ""}`;
        resolve({ ok: false, reason, stdout });
      },
    );
  });
}
