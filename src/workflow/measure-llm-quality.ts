import type { Reporter } from "../core/logger.js";
import type { MetricValues } from "../pareto/metric-catalog.js";
import { evaluateLlmInChild } from "./evaluate-llm-in-child.js";

export interface LlmQuality {
  metrics: MetricValues;
  method: string;
  /** Perplexity chunks scored, where the measurement reports them. */
  chunkCount?: number;
}

/** Keep LLM evaluation within a few minutes on small machines: a bounded number of perplexity chunks. */
export const defaultLlmChunks = 24;

/**
 * Perplexity on held-out text, and against the input model KL divergence and top-1 agreement
 * over the same tokens, through llama.cpp in a child process (a native abort fails this candidate
 * with a typed error, not the run); tokens/s is measured side by side elsewhere. accuracyRetention
 * is the baseline's perplexity over the candidate's (1 = no loss).
 */
export async function measureLlmQuality(
  modelPath: string,
  basePath: string | undefined,
  textPath: string,
  settings: { threads?: number; contextSize?: number; maxChunks?: number },
  reporter: Reporter,
): Promise<LlmQuality> {
  const evaluation = await evaluateLlmInChild({
    modelPath,
    textPath,
    ...(basePath ? { basePath } : {}),
    ...(settings.threads === undefined ? {} : { threads: settings.threads }),
    ...(settings.contextSize === undefined ? {} : { contextSize: settings.contextSize }),
    maxChunks: settings.maxChunks ?? defaultLlmChunks,
    // Speed is measured side by side with the input model (measure-speed), not here.
    promptTokens: 0,
    generateTokens: 0,
    ...(reporter.signal ? { signal: reporter.signal } : {}),
    ...(reporter.progress ? { progress: reporter.progress } : {}),
    ...(reporter.logger ? { logger: reporter.logger } : {}),
  });
  const metrics: MetricValues = { perplexity: evaluation.perplexity.perplexity };
  if (evaluation.klDivergence) metrics.klDivergence = evaluation.klDivergence.mean;
  if (evaluation.top1Agreement) metrics.top1Agreement = evaluation.top1Agreement.ratio;
  if (evaluation.basePerplexity) metrics.accuracyRetention = evaluation.basePerplexity.perplexity / evaluation.perplexity.perplexity;
  const plan = evaluation.chunking;
  const method = `llama.cpp perplexity over ${evaluation.perplexity.scoredTokens} tokens of ${textPath} (${plan.chunkCount} chunks of ${plan.contextSize} tokens)${
    basePath ? `; KL divergence and top-1 agreement against ${basePath} on the same tokens; accuracyRetention = base perplexity / candidate perplexity` : ""
  } at ${evaluation.threads} threads`;
  return { metrics, method };
}
