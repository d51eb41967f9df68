import { z } from "zod";
import { goalTypes } from "../gates/gate.js";
import { comparisonOps } from "../pareto/constraint.js";
import { metricNames, type MetricName } from "../pareto/metric-catalog.js";

/**
 * The one typed result of an optimize run. report.json is this object (canonical, versioned);
 * report.md, report.html and junit.xml are renderings of it and add no facts of their own.
 * Bump `schemaVersion` when a field changes meaning or disappears; adding fields keeps it.
 */
export const reportSchemaVersion = 1;

const metricValuesSchema = z.record(z.string(), z.number());
const metricNameSchema = z.enum(metricNames as unknown as [MetricName, ...MetricName[]]);

export const latencySummarySchema = z.object({
  count: z.number().int(),
  minMs: z.number(),
  meanMs: z.number(),
  p50Ms: z.number(),
  p90Ms: z.number(),
  p95Ms: z.number(),
  p99Ms: z.number(),
  maxMs: z.number(),
  sdMs: z.number(),
});

export const passStepSchema = z.object({
  passId: z.string(),
  passVersion: z.string(),
  /** Every option as the pass resolved it (defaults filled): what the cache key covers. */
  options: z.record(z.string(), z.unknown()),
  /** The options the plan chose (the rest are the pass's defaults): what renderings show. */
  chosenOptions: z.record(z.string(), z.unknown()).optional(),
  cacheKey: z.string(),
  cacheHit: z.boolean(),
  /** Time the pass took when it ran; on a cache hit, the time it took originally. */
  durationMs: z.number(),
  counts: z.record(z.string(), z.number()),
  notes: z.array(z.string()),
});

export const runtimeSettingsSchema = z.object({
  runtime: z.string(),
  threads: z.number().int().optional(),
  graphOptimizationLevel: z.string().optional(),
  enableCpuMemArena: z.boolean().optional(),
  enableMemPattern: z.boolean().optional(),
  executionProvider: z.string().optional(),
  contextSize: z.number().int().optional(),
  /** llama.cpp batch in tokens, when the candidate sets one (the memory setting). */
  batchSize: z.number().int().optional(),
});

/** How a candidate's figures were obtained: every figure in every rendering says this. */
export const measurementSchema = z.object({
  runs: z.number().int(),
  warmupRuns: z.number().int(),
  threads: z.number().int().optional(),
  executionProvider: z.string().optional(),
  runtimeVersion: z.string().optional(),
  isolation: z.string(),
  notes: z.array(z.string()),
});

const intervalSchema = z.object({ low: z.number(), high: z.number(), level: z.number() });

/** One side-by-side ratio as reported: what it is against, its median, interval and (when gated) decision. */
export const sideBySideRatioSchema = z.object({
  /** e.g. "input model at default settings (ort, 2 threads, graph optimization all)". */
  against: z.string(),
  metric: z.string(),
  ratio: z.number(),
  low: z.number(),
  high: z.number(),
  level: z.number(),
  pairs: z.number().int(),
  threshold: z.number().optional(),
  decision: z.enum(["pass", "fail", "inconclusive"]).optional(),
});

/** How a candidate was measured side by side with the input model, and what its memory figures mean. */
export const sideBySideSchema = z.object({
  method: z.string(),
  rounds: z.number().int(),
  stoppedBecause: z.string(),
  load: z.object({ cores: z.number(), busyCores: z.number().optional(), loadAverage1m: z.number().optional(), freeCores: z.number(), oversubscribed: z.boolean() }),
  ratios: z.array(sideBySideRatioSchema),
  /** The input model at default settings (the speed-up's reference) over this window's blocks, on the ratio's metric. */
  baselineBlocks: z.object({ metric: z.string(), min: z.number(), median: z.number(), max: z.number(), blocks: z.number().int() }).optional(),
  memory: z.object({
    peakRssBytes: z.number(),
    referencePeakRssBytes: z.number().optional(),
    modelMemoryBytes: z.number().optional(),
    /** What modelMemoryBytes is (GGUF: weights + KV cache + compute buffers as llama.cpp allocated them; ONNX: peak RSS over a reference process). */
    modelMemoryIncludes: z.string().optional(),
    /** The runtime's own allocation report by part, each with what it includes. */
    parts: z.array(z.object({ name: z.string(), bytes: z.number(), includes: z.string() })).optional(),
    referenceWorkload: z.string().optional(),
    /** The input model's model-attributable memory in the same window (what memoryReduction divides by), on the basis memoryReduction used. */
    baselineModelMemoryBytes: z.number().optional(),
    /** Set when the two sides' own figures had different bases (an MLX candidate against llama.cpp's report): the one basis both sides were compared on. */
    memoryReductionBasis: z.string().optional(),
    /** The candidate's memory on that basis (what memoryReduction divides). */
    candidateMemoryOnBasisBytes: z.number().optional(),
  }),
});

export const candidateReportSchema = z.object({
  id: z.string(),
  label: z.string(),
  isBaseline: z.boolean(),
  passes: z.array(passStepSchema),
  runtime: runtimeSettingsSchema,
  status: z.enum(["measured", "failed", "unmeasured"]),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  artifact: z
    .object({
      format: z.string(),
      path: z.string(),
      /** Where the bytes live in the cache (outputs point here instead of copying). */
      cachePath: z.string().optional(),
      sizeBytes: z.number(),
      sha256: z.string(),
    })
    .optional(),
  metrics: metricValuesSchema,
  /** Names of metrics that are estimates, not measurements (labelled in every rendering). */
  estimatedMetrics: z.array(z.string()),
  latency: latencySummarySchema.optional(),
  /** Raw warm latencies (ms) when recorded, for distribution plots. */
  latencySamplesMs: z.array(z.number()).optional(),
  measurement: measurementSchema.optional(),
  /** Ratios measured side by side with the input model (absent for figures from older reports). */
  sideBySide: sideBySideSchema.optional(),
  /** Confidence intervals of ratio metrics, by metric name: gates on these metrics are judged on the interval. */
  intervals: z.record(z.string(), intervalSchema).optional(),
  /** How accuracy/fidelity was judged (e.g. "CTC exact match on 64 rendered lines vs the baseline"). */
  evaluationMethod: z.string().optional(),
});

export const gateResultSchema = z.object({
  gate: z.string(),
  metric: metricNameSchema,
  goal: z.enum(goalTypes),
  priority: z.number().int(),
  requirement: z.string(),
  passed: z.boolean(),
  measured: z.number().optional(),
  baseline: z.number().optional(),
  threshold: z.number().optional(),
  op: z.enum(comparisonOps).optional(),
  margin: z.number().optional(),
  relativeMargin: z.number().optional(),
  reason: z.string().optional(),
  /** For ratio metrics measured with an interval: the interval the gate was judged on. */
  interval: intervalSchema.optional(),
  /** pass / fail, or inconclusive when the interval straddles the bound (counts as not passed). */
  outcome: z.enum(["pass", "fail", "inconclusive"]).optional(),
});

export const reportSchema = z.object({
  schemaVersion: z.literal(reportSchemaVersion),
  kind: z.literal("edgeforge.optimize"),
  createdAt: z.string(),
  durationMs: z.number(),
  tool: z.object({ name: z.literal("edgeforge"), version: z.string() }),
  input: z.object({
    path: z.string(),
    format: z.string(),
    sha256: z.string(),
    sizeBytes: z.number(),
    architecture: z.string().optional(),
    parameterCount: z.number().optional(),
    /** Input shapes every candidate was run at (--shape, or the model's own metadata); absent when the model's are all fixed. */
    shapes: z.record(z.string(), z.array(z.number().int().positive())).optional(),
  }),
  target: z.object({
    name: z.string(),
    description: z.string().optional(),
    memoryBudgetBytes: z.number().optional(),
    details: z.record(z.string(), z.unknown()),
  }),
  plan: z.object({
    frameworks: z.array(z.object({ name: z.string(), usable: z.boolean().optional(), reasons: z.array(z.string()) })),
    reasons: z.array(z.string()),
    searchSpaceSize: z.number().int(),
    candidates: z.array(
      z.object({
        id: z.string(),
        label: z.string(),
        passes: z.array(z.object({ passId: z.string(), options: z.record(z.string(), z.unknown()) })),
        runtime: runtimeSettingsSchema,
        reasons: z.array(z.string()),
      }),
    ),
    skipped: z.array(z.object({ label: z.string(), reason: z.string() })),
  }),
  search: z.object({
    strategy: z.enum(["exhaustive", "random", "tpe"]),
    seed: z.number().int(),
    maxCandidates: z.number().int(),
    maxTimeSec: z.number().optional(),
    stopWhenGoalsMet: z.boolean(),
    evaluated: z.number().int(),
    stoppedBecause: z.string(),
  }),
  evaluation: z
    .object({
      source: z.string(),
      samples: z.number().int(),
      method: z.string(),
      /** The evaluator, and for ONNX the labels file and sample limit it used: certify re-measures with them. */
      task: z.enum(["ctc", "classification", "fidelity", "llm"]).optional(),
      labels: z.string().optional(),
      limit: z.number().int().positive().optional(),
    })
    .optional(),
  machine: z.object({
    cpu: z.string(),
    architecture: z.string(),
    logicalThreads: z.number().int(),
    physicalCores: z.number().int().optional(),
    totalMemoryBytes: z.number(),
    os: z.string(),
    node: z.string(),
  }),
  baselineId: z.string(),
  candidates: z.array(candidateReportSchema),
  objectives: z.array(z.object({ metric: z.string(), direction: z.enum(["minimize", "maximize"]), weight: z.number() })),
  constraints: z.array(z.object({ metric: z.string(), op: z.enum(comparisonOps), value: z.number(), text: z.string() })),
  frontier: z.object({ ids: z.array(z.string()), dominatedBy: z.record(z.string(), z.array(z.string())) }),
  recommendation: z.object({
    candidateId: z.string().nullable(),
    score: z.number().optional(),
    reasons: z.array(z.string()),
    ranked: z.array(z.object({ id: z.string(), score: z.number() })),
  }),
  gates: z.object({
    source: z.string(),
    definitions: z.array(
      z.object({
        name: z.string(),
        metric: metricNameSchema,
        goal: z.enum(goalTypes),
        value: z.number(),
        op: z.enum(comparisonOps).optional(),
        priority: z.number().int(),
        requirement: z.string(),
      }),
    ),
    verdicts: z.array(z.object({ candidateId: z.string(), passed: z.boolean(), results: z.array(gateResultSchema) })),
    passingIds: z.array(z.string()),
    closest: z.object({ candidateId: z.string(), missed: z.array(gateResultSchema) }).optional(),
  }),
  verdict: z.enum(["passed", "no-candidate-passed"]),
  /** What to do next: when nothing passed, why each unreachable gate is out of reach and the nearest passing alternative; always the diagnose findings. */
  whatNext: z
    .object({
      unreachable: z.array(z.object({ gate: z.string(), requirement: z.string(), bestCandidateId: z.string().optional(), bestMeasured: z.number().optional(), why: z.string() })),
      alternative: z.object({ candidateId: z.string(), changes: z.array(z.string()), command: z.string() }).optional(),
      /** Every way to a passing verdict that applies (relaxed gate, other target, more data), each with its exact command. */
      alternatives: z.array(z.object({ kind: z.enum(["relaxed gate", "other target", "more data"]), candidateId: z.string().optional(), why: z.string(), command: z.string() })).optional(),
      findings: z.array(z.object({ rule: z.string(), severity: z.enum(["error", "warning", "info"]), subject: z.string(), observation: z.string(), actions: z.array(z.string()) })),
      /** The machine was busy when measuring: absolute figures are slow and noisy, ratios are paired in time. */
      oversubscribed: z.string().optional(),
    })
    .optional(),
  /** Distinct pass outputs (cache keys): `hits` taken from the cache, `misses` produced in this run; one output several candidates share counts once. */
  cache: z.object({ enabled: z.boolean(), dir: z.string(), hits: z.number().int(), misses: z.number().int() }),
  log: z.array(z.object({ atMs: z.number(), level: z.enum(["info", "warn"]), message: z.string() })),
  outputs: z.object({
    dir: z.string(),
    reportJson: z.string(),
    reportMd: z.string(),
    reportHtml: z.string(),
    junitXml: z.string(),
    recommendedArtifact: z.string().optional(),
  }),
});

export type Report = z.infer<typeof reportSchema>;
export type CandidateReport = z.infer<typeof candidateReportSchema>;
export type PassStepReport = z.infer<typeof passStepSchema>;
export type RuntimeSettings = z.infer<typeof runtimeSettingsSchema>;
export type LatencySummary = z.infer<typeof latencySummarySchema>;
export type MeasurementReport = z.infer<typeof measurementSchema>;
export type SideBySideReport = z.infer<typeof sideBySideSchema>;
export type GateResultReport = z.infer<typeof gateResultSchema>;
