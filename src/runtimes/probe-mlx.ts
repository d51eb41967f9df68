import { execFile } from "node:child_process";
import { errorMessage, type RuntimeProbe } from "./runtime-probe.js";

const mlxScript = [
  "import mlx.core as mx",
  "c = mx.array([1.0, 2.0, 3.0, 4.0]) + mx.array([10.0, 20.0, 30.0, 40.0])",
  "print(mx.__version__)",
  "print(mx.default_device())",
  "print(c.tolist())",
].join("; ");

/** MLX is Python; on Apple silicon, run a tiny MLX computation with the system python3. */
export function spawnMlxProbe(options: { timeoutMs: number; signal?: AbortSignal }): Promise<RuntimeProbe> {
  const started = process.hrtime.bigint();
  const durationMs = () => Number(process.hrtime.bigint() - started) / 1e6;
  const base = { runtime: "mlx", framework: "mlx", packageName: "mlx (Python)" } as const;
  if (process.platform !== "darwin" || process.arch !== "arm64") {
    return Promise.resolve({ ...base, installed: false, available: false, reason: "MLX runs only on Apple silicon (macOS arm64)", backends: [], details: {}, durationMs: durationMs() });
  }
  return new Promise((resolve) => {
    execFile("python3", ["-c", mlxScript], { timeout: options.timeoutMs, signal: options.signal, encoding: "utf8" }, (error, stdout, stderr) => {
      const [version, device, result] = stdout.trim().split("\n");
      const works = !error && result === "[11.0, 22.0, 33.0, 44.0]";
      const missing = /No module named 'mlx'/.test(stderr) || (error as NodeJS.ErrnoException | null)?.code === "ENOENT";
      resolve({
        ...base,
        installed: !missing,
        available: works,
        ...(version && !missing ? { version } : {}),
        ...(works ? {} : { reason: missing ? "the mlx Python package is not installed (pip install mlx)" : errorMessage(error ?? stderr) }),
        backends: [{ backend: device ?? "gpu", works, durationMs: durationMs() }],
        details: {},
        durationMs: durationMs(),
      });
    });
  });
}
