import { spawnCapture } from "../core/spawn-capture.js";
import { errorMessage, type RuntimeProbe } from "./runtime-probe.js";

const mlxScript = [
  "import mlx.core as mx",
  "c = mx.array([1.0, 2.0, 3.0, 4.0]) + mx.array([10.0, 20.0, 30.0, 40.0])",
  "print(mx.__version__)",
  "print(mx.default_device())",
  "print(c.tolist())",
].join("; ");

/** MLX is Python; on Apple silicon, run a tiny MLX computation with the system python3. */
export async function spawnMlxProbe(options: { timeoutMs: number; signal?: AbortSignal }): Promise<RuntimeProbe> {
  const started = process.hrtime.bigint();
  const durationMs = () => Number(process.hrtime.bigint() - started) / 1e6;
  const base = { runtime: "mlx", framework: "mlx", packageName: "mlx (Python)" } as const;
  if (process.platform !== "darwin" || process.arch !== "arm64") {
    return { ...base, installed: false, available: false, reason: "MLX runs only on Apple silicon (macOS arm64)", backends: [], details: {}, durationMs: durationMs() };
  }
  const run = await spawnCapture("python3", ["-c", mlxScript], { timeoutMs: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
  const [version, device, result] = run.stdout.trim().split("\n");
  const works = run.ok && result === "[11.0, 22.0, 33.0, 44.0]";
  const missing = /No module named 'mlx'/.test(run.stderr) || (!run.ok && run.missing);
  return {
    ...base,
    installed: !missing,
    available: works,
    ...(version && !missing ? { version } : {}),
    ...(works ? {} : { reason: missing ? "the mlx Python package is not installed (pip install mlx)" : errorMessage(run.ok ? run.stderr : run.reason) }),
    backends: [{ backend: device ?? "gpu", works, durationMs: durationMs() }],
    details: {},
    durationMs: durationMs(),
  };
}
