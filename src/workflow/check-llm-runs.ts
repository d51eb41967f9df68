import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LlmRunCheck } from "../passes/pass.js";
import { evaluateLlmInChild } from "./evaluate-llm-in-child.js";

/** Plain English any trained language model should predict far better than chance (written for this check). */
const sanityText = [
  "Once upon a time, there was a little girl named Lily. She liked to play in the park with her dog, Max.",
  "One sunny day, Lily and Max went to the park. They saw a big tree with red apples. Lily wanted to eat an apple,",
  "but the apples were too high. Max barked and ran around the tree. Then a kind man came and helped Lily.",
  "He picked an apple and gave it to her. Lily said, \"Thank you!\" and smiled. She shared the apple with Max,",
  "and they played together until the sun went down. When it was time to go home, Lily was happy.",
  "She told her mom about the kind man and the big tree. Her mom hugged her and said it was a good day.",
].join(" ");

/**
 * The run check of GGUF passes: load the model in llama.cpp in a child process (a native abort ends
 * only the child and comes back as an error) and score the text above in two 32-token chunks.
 */
export async function checkLlmRunsInChild(modelPath: string, signal?: AbortSignal): Promise<LlmRunCheck> {
  const dir = await mkdtemp(join(tmpdir(), "edgeforge-llm-check-"));
  try {
    const textPath = join(dir, "sanity.txt");
    await writeFile(textPath, `${sanityText}\n`);
    const evaluation = await evaluateLlmInChild({ modelPath, textPath, threads: 1, contextSize: 32, maxChunks: 2, promptTokens: 0, generateTokens: 0, ...(signal ? { signal } : {}) });
    return {
      runtime: evaluation.runtime.runtime,
      runtimeVersion: evaluation.runtime.runtimeVersion,
      perplexity: evaluation.perplexity.perplexity,
      scoredTokens: evaluation.perplexity.scoredTokens,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
