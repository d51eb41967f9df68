import type { Framework } from "../hardware/target-profile.js";

export type ProbeDetails = Record<string, string | number | boolean | string[]>;

/** One backend (execution provider, GPU type, device) tried by actually loading or running something. */
export interface BackendProbe {
  /** "cpu", "cuda", "tensorrt", "webgpu", "vulkan", "metal", "GPU", "NPU"… as the engine names it. */
  backend: string;
  works: boolean;
  /** Why it does not work, in the engine's words where possible. */
  reason?: string;
  durationMs: number;
  details?: ProbeDetails;
}

/** What one runtime engine can do on this machine, proven by trying. */
export interface RuntimeProbe {
  /** Runtime catalog id (DESIGN.md vocabulary). */
  runtime: "ort" | "llama-cpp" | "openvino" | "mlx";
  framework: Framework;
  packageName: string;
  installed: boolean;
  /** Installed and at least one backend works. */
  available: boolean;
  version?: string;
  reason?: string;
  backends: BackendProbe[];
  details: ProbeDetails;
  durationMs: number;
}

/** Messages a probe child sends to its parent over IPC. */
export type ProbeChildMessage = { type: "backend"; backend: BackendProbe } | { type: "done"; probe: RuntimeProbe };

export function errorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  return text.replace(/\s+/g, " ").trim();
}
