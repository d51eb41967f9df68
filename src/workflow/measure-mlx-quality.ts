import { readFile } from "node:fs/promises";
import { EdgeforgeError, fileError } from "../core/errors.js";
import type { Reporter } from "../core/logger.js";
import { planPerplexityChunks } from "../eval/llm/perplexity-chunks.js";
import { chunkTargets, decodedChunk, referenceLogitsFrom, scoreLlmChunks } from "../eval/llm/score-llm-chunks.js";
import type { MetricValues } from "../pareto/metric-catalog.js";
import { runLlmEvaluationInChild, type MlxQualityRequest } from "./evaluate-llm-in-child.js";
import { defaultLlmChunks, type LlmQuality } from "./measure-llm-quality.js";

/** What the child computes: perplexity of the MLX model and of the base, KL and top-1 against the base, over the same tokens. */
export interface MlxQualityResult {
  metrics: MetricValues;
  scoredTokens: number;
  chunkCount: number;
  contextSize: number;
}

/**
 * In this process (the evaluation child): the held-out text tokenized by the base GGUF in llama.cpp
 * (the MLX folder was exported from it, same vocabulary), cut into llama-perplexity chunks; each chunk
 * decoded by MLX (a full forward pass in node-mlx) and by llama.cpp on the base; perplexity, KL
 * divergence and top-1 agreement over the same scored positions, as for GGUF candidates.
 */
export async function measureMlxQualityHere(request: MlxQualityRequest, reporter: Reporter): Promise<MlxQualityResult> {
  const [{ loadMlxLlama }, { openLlamaCppSession }] = await Promise.all([import("../runtimes/mlx/mlx-runtime.js"), import("../runtimes/llama-cpp/llama-cpp-runtime.js")]);
  let text: string;
  try {
    text = await readFile(request.textPath, "utf8");
  } catch (error) {
    throw fileError(error, request.textPath, "read");
  }
  const mlx = await loadMlxLlama(request.folder);
  const contextSize = Math.min(request.contextSize ?? 512, mlx.config.contextLength);
  await using base = await openLlamaCppSession(request.basePath, { ...(request.threads === undefined ? {} : { threads: request.threads }), contextSize });
  if (base.vocabularySize !== mlx.config.vocabSize) {
    throw new EdgeforgeError("INVALID_OPTION", `${request.folder} has ${mlx.config.vocabSize} tokens, the base model ${base.vocabularySize}`, {
      hint: "KL divergence compares models with the same tokenizer: the MLX folder exported from this GGUF",
    });
  }
  const tokens = base.tokenize(text);
  const plan = planPerplexityChunks(tokens.length, contextSize, request.maxChunks);
  const vocab = base.vocabularySize;
  const candidate = async (index: number): Promise<Float32Array> =>
    mlx.logits(decodedChunk(tokens, plan, index, base.bosToken).decoded).subarray(plan.firstScoredPosition * vocab);
  const scores = await scoreLlmChunks(candidate, vocab, chunkTargets(tokens, plan, base.bosToken), plan, referenceLogitsFrom(base, tokens, plan, reporter.signal), {
    ...reporter,
    label: "MLX perplexity",
  });
  const perplexity = scores.perplexity();
  const basePerplexity = scores.basePerplexity();
  const metrics: MetricValues = { perplexity: perplexity.perplexity };
  const kl = scores.klDivergence();
  const top1 = scores.top1Agreement();
  if (kl) metrics.klDivergence = kl.mean;
  if (top1) metrics.top1Agreement = top1.ratio;
  if (basePerplexity) metrics.accuracyRetention = basePerplexity.perplexity / perplexity.perplexity;
  return { metrics, scoredTokens: perplexity.scoredTokens, chunkCount: plan.chunkCount, contextSize };
}

/**
 * Quality of an MLX candidate against the GGUF it was exported from (see measureMlxQualityHere), in a
 * child process like every llama.cpp call. Its speed is measured side by side (measure-speed.ts).
 */
export async function measureMlxQuality(
  folder: string,
  basePath: string,
  textPath: string,
  settings: { threads?: number; contextSize?: number; maxChunks?: number },
  reporter: Reporter,
): Promise<LlmQuality> {
  const result = await runLlmEvaluationInChild<MlxQualityResult>(
    { kind: "mlx-quality", options: { folder, basePath, textPath, ...settings, maxChunks: settings.maxChunks ?? defaultLlmChunks } },
    reporter,
  );
  return {
    metrics: result.metrics,
    chunkCount: result.chunkCount,
    method: `MLX (node-mlx, CPU) perplexity over ${result.scoredTokens} tokens of ${textPath} (${result.chunkCount} chunks of ${result.contextSize} tokens, tokenized by ${basePath}); KL divergence and top-1 agreement against ${basePath} in llama.cpp on the same tokens; accuracyRetention = base perplexity / candidate perplexity`,
  };
}
