import { rm } from "node:fs/promises";
import { EdgeforgeError } from "../../core/errors.js";
import type { PassContext } from "../pass.js";

/**
 * Load a GGUF a pass wrote in llama.cpp and run it once (context.checkLlmRuns), so that the pass never
 * reports success for a model llama.cpp refuses: on failure the output is removed and the error names
 * the step. A perplexity worse than guessing uniformly over the vocabulary means broken weights (a
 * checkpoint in another layout, say): the note says so and the logger warns. `vocabularySize` comes from the
 * header the pass read back (0: unknown). Returns the note for the log.
 */
export async function checkGgufOutput(outputPath: string, vocabularySize: number, context: PassContext): Promise<string> {
  if (!context.checkLlmRuns) return "output not loaded in a runtime: the pass was given none";
  let check;
  try {
    check = await context.checkLlmRuns(outputPath, context.signal);
  } catch (error) {
    context.signal?.throwIfAborted();
    await rm(outputPath, { force: true });
    throw new EdgeforgeError("INTERNAL", `the output ${outputPath} does not run in llama.cpp: ${(error as Error).message}`, {
      hint: "this is a bug in edgeforge or llama.cpp; the output was removed. Report it with the model",
      details: { path: outputPath },
      cause: error,
    });
  }
  const vocabulary = vocabularySize;
  const engine = check.runtime === "llama-cpp" ? `llama.cpp (node-llama-cpp ${check.runtimeVersion})` : `${check.runtime} ${check.runtimeVersion}`;
  const note = `output loaded and run once in ${engine}: perplexity ${check.perplexity.toPrecision(4)} on ${check.scoredTokens} tokens of a short English text (a sanity figure, not an evaluation)`;
  if (vocabulary === 0 || check.perplexity <= vocabulary) return note;
  const warning = `${note} — worse than guessing uniformly among its ${vocabulary} tokens: the weights look broken (a checkpoint in another layout, or scrambled)`;
  context.logger?.warn(warning);
  return warning;
}
