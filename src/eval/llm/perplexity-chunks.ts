import { EdgeforgeError } from "../../core/errors.js";

/**
 * llama-perplexity's chunking (tools/perplexity/perplexity.cpp, `perplexity`): the whole text is
 * tokenized once (with BOS when the model adds one), cut into non-overlapping chunks of
 * `contextSize` tokens (stride = context), the first token of each chunk replaced by BOS, and
 * only the second half of each chunk scored: positions first..n_ctx−2 predict the next token,
 * with first = n_ctx/2, so every scored token has at least n_ctx/2 tokens of context.
 */
export interface PerplexityChunkPlan {
  contextSize: number;
  strideTokens: number;
  /** Position whose logits predict the first scored token (n_ctx / 2). */
  firstScoredPosition: number;
  /** Predictions scored per chunk: n_ctx − first − 1. */
  scoredTokensPerChunk: number;
  chunkCount: number;
  /** Chunks the text holds; chunkCount may be fewer when capped. */
  availableChunks: number;
  textTokenCount: number;
}

export function planPerplexityChunks(textTokenCount: number, contextSize: number, maxChunks?: number): PerplexityChunkPlan {
  if (!Number.isInteger(contextSize) || contextSize < 4) {
    throw new EdgeforgeError("INVALID_OPTION", `context size must be an integer of at least 4, not ${contextSize}`, { hint: "e.g. --context 512" });
  }
  if (maxChunks !== undefined && (!Number.isInteger(maxChunks) || maxChunks < 1)) {
    throw new EdgeforgeError("INVALID_OPTION", `chunk count must be a positive integer, not ${maxChunks}`, { hint: "e.g. --chunks 40" });
  }
  if (textTokenCount < 2 * contextSize) {
    throw new EdgeforgeError("DATASET_INVALID", `the text tokenizes to ${textTokenCount} tokens; perplexity at context ${contextSize} needs at least ${2 * contextSize}`, {
      hint: "use a longer text or a smaller --context (llama-perplexity has the same rule)",
      details: { textTokenCount, contextSize },
    });
  }
  const availableChunks = Math.floor(textTokenCount / contextSize);
  const firstScoredPosition = Math.floor(contextSize / 2);
  return {
    contextSize,
    strideTokens: contextSize,
    firstScoredPosition,
    scoredTokensPerChunk: contextSize - firstScoredPosition - 1,
    chunkCount: Math.min(availableChunks, maxChunks ?? availableChunks),
    availableChunks,
    textTokenCount,
  };
}

/** Chunk `index` as decoded: a copy whose first token is BOS when the model uses one. */
export function chunkTokens(tokens: Int32Array, plan: PerplexityChunkPlan, index: number, bosToken: number | undefined): Int32Array {
  const start = index * plan.strideTokens;
  const chunk = tokens.slice(start, start + plan.contextSize);
  if (bosToken !== undefined) chunk[0] = bosToken;
  return chunk;
}
