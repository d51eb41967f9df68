import { z } from "zod";
import { workflowConfigSchema } from "./workflow-config.js";

/**
 * `edgeforge run PIPELINE.yaml`: the seed's CI/CD pipeline as a declarative file. The
 * optimization stage is a workflow config (the same engine `optimize` runs); validation runs
 * before it, testing judges its result, packaging ships it.
 */
const optimizationStageSchema = workflowConfigSchema.omit({ schemaVersion: true, model: true, target: true, output: true, gates: true });

export const pipelineConfigSchema = z
  .object({
    schemaVersion: z.literal(1),
    name: z.string().min(1).regex(/^[A-Za-z0-9._-]+$/, "letters, digits, . _ -").describe("names the run in reports and the package"),
    model: z.string().min(1),
    target: z.string().min(1).default("local"),
    output: z.string().min(1),
    stages: z
      .object({
        validation: z
          .object({
            requireFit: z.boolean().default(true).describe("stop unless the model, or some quantization of it, is estimated to fit the target's memory"),
            maxSizeBytes: z.union([z.number().int().positive(), z.string()]).optional().describe("stop if the input is larger (e.g. 50MB)"),
            smokeTest: z.boolean().default(true).describe("load the model and run it a few times before optimizing"),
          })
          .strict()
          .optional(),
        optimization: optimizationStageSchema.partial().default({}),
        testing: z
          .object({
            gates: workflowConfigSchema.shape.gates,
            verifyRecommended: z
              .object({
                runs: z.number().int().positive().default(30),
                tolerancePercent: z.number().positive().default(10).describe("re-measured p50 must agree with the report within this"),
              })
              .strict()
              .optional()
              .describe("re-measure the recommended artifact in a fresh benchmark"),
          })
          .strict()
          .optional(),
        packaging: z
          .object({
            dir: z.string().default("package").describe("folder under output for the shipped files"),
            includeReports: z.boolean().default(true),
          })
          .strict()
          .optional(),
      })
      .strict(),
  })
  .strict();

export type PipelineConfig = z.infer<typeof pipelineConfigSchema>;
