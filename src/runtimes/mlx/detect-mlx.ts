import { callInChild, childEntry } from "../../core/child-call.js";
import type { RuntimeAvailability } from "../catalog.js";

/**
 * Whether the MLX runtime (node-mlx, `@frost-beta/mlx`) loads and computes here, proven in a child
 * process (a native library that fails to load or aborts must not take the caller down). Unlike the
 * `hw` probe of Python MLX (Apple silicon only), this is the engine `optimize` and `bench` measure MLX
 * folders with, so it is what decides whether MLX candidates can be measured on this machine.
 */
export async function detectMlx(signal?: AbortSignal): Promise<RuntimeAvailability> {
  try {
    const version = await callInChild<string>(childEntry(import.meta.url, "detect-mlx-child"), {}, { what: "the node-mlx probe", ...(signal ? { signal } : {}) });
    return { available: true, version };
  } catch (error) {
    signal?.throwIfAborted();
    return { available: false, reason: error instanceof Error ? error.message.split("\n")[0] : String(error) };
  }
}
