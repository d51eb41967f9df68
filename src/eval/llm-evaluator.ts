import { EdgeforgeError } from "../core/errors.js";
import type { EvalMetric, Evaluator } from "./evaluator.js";
import { evaluateLlm, type EvaluateLlmOptions } from "./llm/evaluate-llm.js";

/** A numeric evaluator option (`--set`, `--ctx`, …); anything else counts as absent. */
export function numberOption(options: Record<string, unknown>, key: string): number | undefined {
  const value = options[key];
  return typeof value === "number" ? value : undefined;
}

/** The LLM metrics (perplexity; against a baseline, KL divergence and top-1 agreement; pp/tg speed) behind the Evaluator interface. */
export const llmEvaluator: Evaluator = {
  id: "llm",
  description: "perplexity on held-out text; KL divergence and top-1 agreement against a baseline; prompt and generation tokens/s",
  primaryMetric: "perplexity",
  baseline: "internal",
  needsDataset: false,
  async evaluate(context) {
    if (!context.dataPath) throw new EdgeforgeError("INVALID_OPTION", "LLM evaluation needs held-out text", { hint: "pass --data TEXT_FILE" });
    if (!context.openLlmSession) {
      throw new EdgeforgeError("RUNTIME_UNAVAILABLE", "no language-model runtime was provided", { hint: "evaluate GGUF models through edgeforge's API or CLI, which open them with llama-cpp" });
    }
    const o = context.options;
    const optional = <K extends keyof EvaluateLlmOptions>(key: K, value: EvaluateLlmOptions[K] | undefined): Partial<EvaluateLlmOptions> =>
      value === undefined ? {} : ({ [key]: value } as Partial<EvaluateLlmOptions>);
    const evaluation = await evaluateLlm({
      modelPath: context.modelPath,
      textPath: context.dataPath,
      openSession: context.openLlmSession,
      ...optional("basePath", context.baselinePath),
      ...optional("threads", numberOption(o, "threads")),
      ...optional("contextSize", numberOption(o, "contextSize")),
      ...optional("maxChunks", numberOption(o, "maxChunks")),
      ...optional("promptTokens", numberOption(o, "promptTokens")),
      ...optional("generateTokens", numberOption(o, "generateTokens")),
      ...optional("repetitions", numberOption(o, "repetitions")),
      ...optional("logger", context.logger),
      ...optional("progress", context.progress),
      ...optional("signal", context.signal),
    });
    const metrics: EvalMetric[] = [
      { name: "perplexity", value: evaluation.perplexity.perplexity, unit: "", direction: "lower", description: `± ${evaluation.perplexity.perplexityStandardError.toPrecision(3)}` },
    ];
    if (evaluation.klDivergence) metrics.push({ name: "klDivergence", value: evaluation.klDivergence.mean, unit: "nats", direction: "lower", description: "mean per token against the baseline" });
    if (evaluation.top1Agreement) metrics.push({ name: "top1Agreement", value: evaluation.top1Agreement.ratio, unit: "ratio", direction: "higher" });
    for (const test of evaluation.throughput) {
      metrics.push({ name: test.kind === "pp" ? "promptTokensPerSec" : "tokensPerSec", value: test.tokensPerSecMean, unit: "tokens/s", direction: "higher", description: test.name });
    }
    metrics.push({ name: "loadMs", value: evaluation.loadMs.total, unit: "ms", direction: "lower" });
    return {
      metrics,
      ...(evaluation.basePerplexity
        ? { baselineMetrics: [{ name: "perplexity", value: evaluation.basePerplexity.perplexity, unit: "", direction: "lower" as const }] }
        : {}),
      sampleCount: evaluation.chunking.chunkCount,
      details: { llm: evaluation },
    };
  },
};
