import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { gateEntrySchema } from "../gates/gates-file.js";

/**
 * One config format for a workflow (YAML or JSON with `schemaVersion`): `optimize` builds one
 * from its flags, `run` takes one from a pipeline file's optimization stage, `--dry-run` prints
 * the resolved one. Precedence: flags > file > defaults.
 */
export const searchStrategies = ["auto", "exhaustive", "random", "tpe"] as const;
export const graphOptimizationLevels = ["disabled", "basic", "extended", "all"] as const;

const positiveInt = z.number().int().positive();

export const workflowConfigSchema = z
  .object({
    schemaVersion: z.literal(1),
    model: z.string().min(1).describe("the input model: .onnx, .gguf, .safetensors or a Hugging Face folder"),
    target: z.string().min(1).default("local").describe("a target profile name, or local (this machine)"),
    output: z.string().min(1).describe("folder for the recommended artifact and the reports"),
    data: z
      .object({
        evaluation: z.string().optional().describe("evaluation data (dataset folder, .json/.jsonl, or for LLMs a text file)"),
        calibration: z.string().optional().describe("calibration data for static quantization and importance matrices"),
        evaluator: z.enum(["auto", "fidelity", "classification", "ctc"]).default("auto").describe("how accuracy is judged"),
        labels: z.string().optional().describe("CTC character list (one per line) for ctc evaluation"),
        limit: positiveInt.optional().describe("use at most this many evaluation samples"),
      })
      .strict()
      .default({ evaluator: "auto" }),
    search: z
      .object({
        strategy: z.enum(searchStrategies).default("auto").describe("auto = exhaustive when the space fits the budget, else tpe"),
        maxCandidates: positiveInt.default(12).describe("candidates to evaluate, the baseline included"),
        maxTimeSec: z.number().positive().optional().describe("start no new candidate after this many seconds"),
        seed: z.number().int().nonnegative().default(1),
        stopWhenGoalsMet: z.boolean().default(false).describe("stop at the first candidate that passes every gate"),
      })
      .strict()
      .default({ strategy: "auto", maxCandidates: 12, seed: 1, stopWhenGoalsMet: false }),
    candidates: z
      .object({
        passes: z.array(z.string()).optional().describe("pass ids to consider (default: every pass that applies)"),
        exclude: z.array(z.string()).default([]).describe("pass ids never to try"),
        threads: z.array(positiveInt).optional().describe("thread counts to try (default: 1 and the target's cores)"),
        graphOptimizationLevels: z.array(z.enum(graphOptimizationLevels)).optional(),
        memorySettings: z.boolean().default(true).describe("also try the runtimes' memory settings: ONNX Runtime without its CPU arena and memory pattern, llama.cpp with a 64-token batch (less resident memory)"),
        executionProviders: z.array(z.string()).optional().describe("ONNX Runtime providers to try (default: those that work here)"),
        ggufTypes: z.array(z.string()).optional().describe("llama.cpp types to try (default: those that fit the target)"),
        passOptions: z.record(z.string(), z.record(z.string(), z.unknown())).default({}).describe("fixed options per pass id"),
      })
      .strict()
      .default({ exclude: [], passOptions: {}, memorySettings: true }),
    measurement: z
      .object({
        runs: positiveInt.default(30).describe("timed inferences per candidate"),
        warmupRuns: z.number().int().nonnegative().default(5),
        shapes: z.record(z.string(), z.array(positiveInt)).default({}).describe("fixed input shapes, e.g. {x: [1, 3, 48, 320]}"),
        contextSize: positiveInt.optional().describe("LLM context for evaluation and tokens/s"),
      })
      .strict()
      .default({ runs: 30, warmupRuns: 5, shapes: {} }),
    objectives: z.array(z.string()).optional().describe("METRIC[:min|max][:WEIGHT]; default latency, memory, size, accuracy retention"),
    constraints: z.array(z.string()).default([]).describe("hard limits such as 'p95LatencyMs <= 20' or 'peakRssBytes <= 512MB'"),
    gates: z
      .object({
        file: z.string().optional().describe("a gates file (YAML/JSON); replaces the defaults"),
        list: z.array(gateEntrySchema).optional().describe("gates written inline; added to the file's"),
        useDefaults: z.boolean().default(true).describe("the seed's defaults when no file or list is given"),
      })
      .strict()
      .default({ useDefaults: true }),
    cache: z
      .object({
        enabled: z.boolean().default(true),
        dir: z.string().optional().describe("default: $EDGEFORGE_CACHE_DIR, $XDG_CACHE_HOME/edgeforge or ~/.cache/edgeforge"),
      })
      .strict()
      .default({ enabled: true }),
  })
  .strict();

export type WorkflowConfig = z.infer<typeof workflowConfigSchema>;
export type WorkflowConfigInput = z.input<typeof workflowConfigSchema>;

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.EDGEFORGE_CACHE_DIR) return env.EDGEFORGE_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, "edgeforge");
  return join(homedir(), ".cache", "edgeforge");
}
