import { z } from "zod";
import { EdgeforgeError } from "../core/errors.js";

/**
 * Engine settings a benchmark or evaluation asks for. Every runtime reads the fields that mean
 * something to it and records what it applied in `SessionDescription.settings`.
 */
export const runtimeSettingsSchema = z
  .object({
    /** Compute threads: ORT intra-op threads, llama.cpp threads, OpenVINO inference threads. */
    threads: z.number().int().positive().optional(),
    /** ORT inter-op threads (parallel execution mode only). */
    interOpThreads: z.number().int().positive().optional(),
    /** Providers (ORT: "cuda", "webgpu", "cpu"…) or devices (OpenVINO: "GPU", "CPU") to try in order. */
    executionProviders: z.array(z.string().min(1)).min(1).optional(),
    graphOptimizationLevel: z.enum(["disabled", "basic", "extended", "all"]).optional(),
    executionMode: z.enum(["sequential", "parallel"]).optional(),
    enableCpuMemArena: z.boolean().optional(),
    /** ORT memory pattern: pre-plans allocations from the first run's shapes. */
    enableMemPattern: z.boolean().optional(),
    /** llama.cpp context size in tokens. */
    contextSize: z.number().int().positive().optional(),
    /** llama.cpp batch size in tokens. */
    batchSize: z.number().int().positive().optional(),
  })
  .strict();

export type RuntimeSettings = z.infer<typeof runtimeSettingsSchema>;

/** Validate settings from callers that bypass the CLI's flag parsing. */
export function checkRuntimeSettings(settings: unknown): void {
  if (settings === undefined) return;
  const parsed = runtimeSettingsSchema.safeParse(settings);
  if (!parsed.success) {
    throw new EdgeforgeError("INVALID_OPTION", `invalid runtime settings: ${z.prettifyError(parsed.error)}`, {
      hint: "threads, interOpThreads, contextSize and batchSize are positive integers; executionProviders a non-empty list",
      details: { issues: parsed.error.issues },
    });
  }
}
