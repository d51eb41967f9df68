import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { openLlamaCppSession } from "../../src/runtimes/llama-cpp/llama-cpp-runtime.js";
import { llmTestThreads } from "../fixtures/llm-models.js";

/** Logits of every position of `tokens` from a GGUF loaded in node-llama-cpp. */
export async function ggufLogits(path: string, tokens: Int32Array): Promise<Float32Array> {
  await using session = await openLlamaCppSession(path, { threads: llmTestThreads, contextSize: Math.max(64, tokens.length) });
  return await session.evaluateLogits(tokens, 0);
}

export async function ggufTokens(path: string, text: string): Promise<Int32Array> {
  await using session = await openLlamaCppSession(path, { threads: llmTestThreads, contextSize: 64 });
  return session.tokenize(text);
}

export function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i += 1) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

/** Greedy continuation of a prompt (argmax of the last position's logits, appended each step). */
export async function greedyContinuation(path: string, prompt: string, steps: number): Promise<Int32Array> {
  await using session = await openLlamaCppSession(path, { threads: llmTestThreads, contextSize: 64 });
  let tokens = session.tokenize(prompt);
  const promptLength = tokens.length;
  for (let step = 0; step < steps; step += 1) {
    const logits = await session.evaluateLogits(tokens, tokens.length - 1);
    let best = 0;
    for (let token = 1; token < logits.length; token += 1) if ((logits[token] as number) > (logits[best] as number)) best = token;
    tokens = Int32Array.from([...tokens, best]);
  }
  return tokens.subarray(promptLength);
}

/** Rewrite config.json of an exported folder (e.g. to label the same llama weights as Mistral). */
export async function patchConfig(folder: string, patch: Record<string, unknown>): Promise<void> {
  const path = join(folder, "config.json");
  const config = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
  await writeFile(path, JSON.stringify({ ...config, ...patch }, null, 2));
}
