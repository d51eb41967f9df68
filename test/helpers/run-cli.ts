import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The built CLI (`npm test` builds before running the suite). */
export const cliPath = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliPath, ...args],
      { timeout: options.timeoutMs ?? 120_000, encoding: "utf8", maxBuffer: 64 << 20, cwd: options.cwd, env: options.env ?? process.env },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
