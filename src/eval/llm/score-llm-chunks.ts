import type { Progress } from "../../core/logger.js";
import type { LlmSession } from "../../core/llm-session.js";
import { chunkTokens, type PerplexityChunkPlan } from "./perplexity-chunks.js";
import { TokenScoreAccumulator } from "./token-scores.js";

/** Logits of a reference model for chunk `index`, rows first..n_ctx−2, as `LlmSession.evaluateLogits` returns them. */
export type ReferenceLogits = (index: number) => Promise<Float32Array>;

/** The part of a chunk that is decoded: logits of positions first..n_ctx−2 predict tokens first+1..n_ctx−1, so the last token is never decoded. */
export function decodedChunk(tokens: Int32Array, plan: PerplexityChunkPlan, index: number, bosToken: number | undefined): { decoded: Int32Array; targets: Int32Array } {
  const chunk = chunkTokens(tokens, plan, index, bosToken);
  return { decoded: chunk.subarray(0, plan.contextSize - 1), targets: chunk.subarray(plan.firstScoredPosition + 1) };
}

export function referenceLogitsFrom(session: LlmSession, tokens: Int32Array, plan: PerplexityChunkPlan, signal?: AbortSignal): ReferenceLogits {
  return (index) => session.evaluateLogits(decodedChunk(tokens, plan, index, session.bosToken).decoded, plan.firstScoredPosition, signal);
}

/** Keep a reference's logits for every chunk in memory when they fit `budgetBytes`, so several candidates share one reference pass. */
export async function cacheReferenceLogits(reference: ReferenceLogits, plan: PerplexityChunkPlan, vocabularySize: number, budgetBytes: number, progress?: Progress): Promise<ReferenceLogits> {
  const bytes = plan.chunkCount * (plan.contextSize - 1 - plan.firstScoredPosition) * vocabularySize * 4;
  if (bytes > budgetBytes) return reference;
  const cached: Float32Array[] = [];
  progress?.start("reference logits", plan.chunkCount);
  for (let index = 0; index < plan.chunkCount; index += 1) {
    cached.push(await reference(index));
    progress?.update(index + 1);
  }
  progress?.finish();
  return async (index) => cached[index] as Float32Array;
}

/**
 * Score every planned chunk: `logits` gives the scored model's rows for each chunk (a session's
 * evaluateLogits, or cached rows), `reference` the base model's for KL and top-1 agreement.
 */
export async function scoreLlmChunks(
  logits: ReferenceLogits,
  vocabularySize: number,
  targetsOf: (index: number) => Int32Array,
  plan: PerplexityChunkPlan,
  reference: ReferenceLogits | undefined,
  options: { progress?: Progress; signal?: AbortSignal; label?: string } = {},
): Promise<TokenScoreAccumulator> {
  const { progress, signal } = options;
  const scores = new TokenScoreAccumulator(vocabularySize);
  progress?.start(options.label ?? "perplexity", plan.chunkCount);
  for (let index = 0; index < plan.chunkCount; index += 1) {
    signal?.throwIfAborted();
    scores.addRows(await logits(index), targetsOf(index), reference ? await reference(index) : undefined);
    progress?.update(index + 1);
  }
  progress?.finish();
  return scores;
}

/** The tokens each chunk's scored rows predict. */
export function chunkTargets(tokens: Int32Array, plan: PerplexityChunkPlan, bosToken: number | undefined): (index: number) => Int32Array {
  return (index) => decodedChunk(tokens, plan, index, bosToken).targets;
}
