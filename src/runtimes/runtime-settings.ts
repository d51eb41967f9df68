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
    /**
     * ORT: repack constant weights into the kernels' layout at load (default true). false skips it
     * (session.disable_prepacking): a faster load whose runs use the unpacked path — for a session
     * that loads a model to run it once (a pass's run check), never for a measurement.
     */
    prepackWeights: z.boolean().optional(),
    /** llama.cpp context size in tokens. */
    contextSize: z.number().int().positive().optional(),
    /** llama.cpp batch size in tokens. */
    batchSize: z.number().int().positive().optional(),
  })
  .strict();

export type RuntimeSettings = z.infer<typeof runtimeSettingsSchema>;

/**
 * Settings for a session that only proves a written model loads and runs (a pass's run check): one
 * thread (no pool to start) and no weight prepacking — 5–10 ms less per load of a 14 MB int8 model.
 */
export const runCheckSettings: RuntimeSettings = Object.freeze({ threads: 1, prepackWeights: false });

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
