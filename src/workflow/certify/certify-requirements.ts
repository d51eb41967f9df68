import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { EdgeforgeError, fileError } from "../../core/errors.js";
import { parseConfigDocument } from "../load-workflow-config.js";

/**
 * What an artifact must meet to be approved for deployment (`--requirements FILE`, YAML or JSON).
 * Every field has a default, and certification.json records the values that were applied.
 */
export const certifyRequirementsSchema = z
  .object({
    schemaVersion: z.literal(1).default(1),
    latency: z
      .object({
        /** p99 budget at the expected load; default: 3× the optimize report's p99 for the artifact. */
        p99Ms: z.number().positive().optional(),
        /** p95 budget the server watches; default: 2× the measured p95 at the expected load. */
        p95Ms: z.number().positive().optional(),
      })
      .strict()
      .default({}),
    stress: z
      .object({
        /** In-flight requests the deployment expects. */
        expectedConcurrency: z.number().int().positive().default(2),
        /** Highest concurrency level of the sweep (levels double from 1). */
        maxConcurrency: z.number().int().positive().default(4),
        /** Measuring time per level. */
        durationMs: z.number().int().positive().default(2000),
        /** Allowed RSS growth from the first level's end to the last level's end. */
        maxRssGrowthBytes: z.number().int().positive().default(64 * 1024 * 1024),
      })
      .strict()
      .default({ expectedConcurrency: 2, maxConcurrency: 4, durationMs: 2000, maxRssGrowthBytes: 64 * 1024 * 1024 }),
    robustness: z
      .object({
        /** Largest allowed output degradation under a perturbation (1 − cosine similarity, or relative perplexity increase). */
        maxDegradation: z.number().positive().default(0.25),
        samples: z.number().int().positive().default(4),
      })
      .strict()
      .default({ maxDegradation: 0.25, samples: 4 }),
    security: z
      .object({
        maxFileBytes: z.number().int().positive().default(4 * 1024 ** 3),
        /** ONNX op domains accepted besides the standard ones. */
        allowedOpDomains: z.array(z.string()).default([]),
        /** Fail (not only flag) when the artifact's weights are not in the registry's lineage. */
        requireRegistryLineage: z.boolean().default(false),
      })
      .strict()
      .default({ maxFileBytes: 4 * 1024 ** 3, allowedOpDomains: [], requireRegistryLineage: false }),
    compliance: z
      .object({
        /** Licence to record when the model carries none (SPDX id). */
        licence: z.string().optional(),
        /** Producer to record when the model carries none. */
        producer: z.string().optional(),
      })
      .strict()
      .default({}),
    monitoring: z
      .object({
        errorRateThreshold: z.number().min(0).max(1).default(0.01),
        histogramBins: z.number().int().min(4).max(100).default(20),
      })
      .strict()
      .default({ errorRateThreshold: 0.01, histogramBins: 20 }),
    evaluation: z
      .object({
        /** Held-out text for LLM perplexity (re-measurement and token dropout). */
        text: z.string().optional(),
        /** Perplexity chunks to use; few keeps certify quick. */
        maxChunks: z.number().int().positive().default(4),
        /** Generated samples for ONNX fidelity re-measurement. */
        samples: z.number().int().positive().default(8),
      })
      .strict()
      .default({ maxChunks: 4, samples: 8 }),
    performance: z
      .object({
        /** Side-by-side rounds (each arm one block per round). */
        minRounds: z.number().int().positive().default(4),
        maxRounds: z.number().int().positive().default(8),
        blockMs: z.number().int().positive().default(150),
      })
      .strict()
      .default({ minRounds: 4, maxRounds: 8, blockMs: 150 }),
  })
  .strict();

export type CertifyRequirements = z.infer<typeof certifyRequirementsSchema>;

export function parseCertifyRequirements(value: unknown, where: string): CertifyRequirements {
  const parsed = certifyRequirementsSchema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new EdgeforgeError("INVALID_CONFIG", `${where}: ${issue?.path.join(".") || "(top)"}: ${issue?.message ?? "invalid"}`, {
    hint: "see docs/certify.md for the requirements file's fields",
    details: { issues: parsed.error.issues },
  });
}

export async function readCertifyRequirements(path: string | undefined, signal?: AbortSignal): Promise<CertifyRequirements> {
  if (path === undefined) return parseCertifyRequirements({}, "default requirements");
  let text: string;
  try {
    text = await readFile(path, { encoding: "utf8", signal });
  } catch (error) {
    throw fileError(error, path, "read");
  }
  const requirements = parseCertifyRequirements(parseConfigDocument(text, path), path);
  if (requirements.evaluation.text) requirements.evaluation.text = resolve(dirname(resolve(path)), requirements.evaluation.text);
  return requirements;
}
