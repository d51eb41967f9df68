import { EdgeforgeError } from "../core/errors.js";

/**
 * Every metric an evaluation can carry, with its unit and which way is better. Objectives,
 * constraints and gates name metrics from this table, so a typo is caught with the list of
 * real names instead of silently matching nothing.
 */
export type Direction = "minimize" | "maximize";

export interface MetricInfo {
  unit: "ms" | "bytes" | "ratio" | "per-second" | "tokens-per-second" | "joules" | "nats" | "count";
  direction: Direction;
  description: string;
}

export const metricCatalog = Object.freeze({
  loadMs: { unit: "ms", direction: "minimize", description: "time to load the model into a session" },
  firstInferenceMs: { unit: "ms", direction: "minimize", description: "latency of the first (cold) inference" },
  minLatencyMs: { unit: "ms", direction: "minimize", description: "fastest warm inference" },
  meanLatencyMs: { unit: "ms", direction: "minimize", description: "mean warm inference latency" },
  p50LatencyMs: { unit: "ms", direction: "minimize", description: "median warm inference latency" },
  p90LatencyMs: { unit: "ms", direction: "minimize", description: "90th percentile warm latency" },
  p95LatencyMs: { unit: "ms", direction: "minimize", description: "95th percentile warm latency" },
  p99LatencyMs: { unit: "ms", direction: "minimize", description: "99th percentile warm latency" },
  maxLatencyMs: { unit: "ms", direction: "minimize", description: "slowest warm inference" },
  latencyCv: { unit: "ratio", direction: "minimize", description: "coefficient of variation of warm latency (sd / mean)" },
  throughputPerSec: { unit: "per-second", direction: "maximize", description: "inferences per second, sequential" },
  peakRssBytes: { unit: "bytes", direction: "minimize", description: "peak resident memory of the measuring process" },
  rssIncreaseBytes: { unit: "bytes", direction: "minimize", description: "peak resident memory above an idle Node process (runtime included)" },
  modelMemoryBytes: { unit: "bytes", direction: "minimize", description: "model-attributable memory: GGUF: weights + KV cache + compute buffers as llama.cpp allocated them; otherwise peak RSS minus a reference process that loaded the same runtime with the same settings and ran a trivial model" },
  sizeBytes: { unit: "bytes", direction: "minimize", description: "artifact size on disk" },
  estimatedRunBytes: { unit: "bytes", direction: "minimize", description: "estimated memory to run on the target: weights + KV cache + runtime (an estimate, from the model's headers)" },
  energyJoules: { unit: "joules", direction: "minimize", description: "energy per inference where counters exist" },
  accuracy: { unit: "ratio", direction: "maximize", description: "task accuracy on the evaluation set (top-1, exact match…)" },
  accuracyRetention: { unit: "ratio", direction: "maximize", description: "accuracy as a fraction of the baseline's" },
  cosineSimilarity: { unit: "ratio", direction: "maximize", description: "mean cosine similarity of outputs to the baseline's" },
  top1Agreement: { unit: "ratio", direction: "maximize", description: "fraction of samples whose top-1 matches the baseline's" },
  perplexity: { unit: "ratio", direction: "minimize", description: "perplexity on held-out text" },
  klDivergence: { unit: "nats", direction: "minimize", description: "mean KL divergence of token distributions against the baseline" },
  promptTokensPerSec: { unit: "tokens-per-second", direction: "maximize", description: "prompt processing speed" },
  tokensPerSec: { unit: "tokens-per-second", direction: "maximize", description: "generation speed" },
  speedup: { unit: "ratio", direction: "maximize", description: "against the input model at its default settings, side by side: p50 latency ratio (ONNX) or generation tokens/s ratio (GGUF), median of per-round ratios" },
  promptSpeedup: { unit: "ratio", direction: "maximize", description: "GGUF: prompt tokens/s ratio against the input model at its default settings, side by side (speedup is the generation tokens/s ratio)" },
  passSpeedup: { unit: "ratio", direction: "maximize", description: "the pass's own effect: the same ratio against the input model at the candidate's own runtime settings" },
  memoryReduction: { unit: "ratio", direction: "maximize", description: "1 − candidate memory / baseline memory" },
  sizeReduction: { unit: "ratio", direction: "maximize", description: "1 − candidate size / baseline size" },
} satisfies Record<string, MetricInfo>);

export type MetricName = keyof typeof metricCatalog;

export const metricNames = Object.freeze(Object.keys(metricCatalog) as MetricName[]);

/** The metrics only an evaluation on data gives (accuracy, fidelity, LLM quality): unmeasured without evaluation data. */
export const qualityMetricNames: readonly MetricName[] = Object.freeze(["accuracy", "accuracyRetention", "cosineSimilarity", "top1Agreement", "perplexity", "klDivergence"]);

export function isQualityMetric(name: string): boolean {
  return (qualityMetricNames as readonly string[]).includes(name);
}

export function isMetricName(name: string): name is MetricName {
  return Object.hasOwn(metricCatalog, name);
}

export function metricInfo(name: MetricName): MetricInfo {
  return metricCatalog[name];
}

/** A candidate's measured figures by metric name; absent = not measured. */
export type MetricValues = Partial<Record<MetricName, number>>;

/** Resolve a user-written metric name or fail with the list of real ones. */
export function requireMetricName(name: string, where: string): MetricName {
  if (isMetricName(name)) return name;
  throw new EdgeforgeError("INVALID_CONFIG", `unknown metric "${name}" in ${where}`, {
    hint: `known metrics: ${metricNames.join(", ")}`,
    details: { metric: name, where, knownMetrics: [...metricNames] },
  });
}
