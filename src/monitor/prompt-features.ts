import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { EdgeforgeError, fileError } from "../core/errors.js";
import type { DriftReference } from "./model-monitor.js";
import type { MonitoredFeature } from "./request-features.js";

/**
 * An LLM request's monitored features, from its prompt's text as the user sent it (a chat's message
 * contents, not the template around them) and its tokens: length in tokens; characters per token
 * (falls with another language, script or encoded data, which the tokenizer splits finer); and the
 * share of its tokens among the reference's common tokens (falls when the vocabulary moves away from
 * the reference's: another topic or language).
 */
export const promptFeatures: readonly MonitoredFeature[] = Object.freeze([
  { name: "prompt.tokens", kind: "numeric" },
  { name: "prompt.charsPerToken", kind: "numeric" },
  { name: "prompt.commonTokenShare", kind: "numeric" },
]);

/** The reference's common tokens: the most frequent ones that together make up this share of its tokens. */
const commonTokenMass = 0.5;

/** The text a request's features are computed from: the prompt, or the chat's message contents one per line. */
export function promptText(request: { prompt?: string; messages?: readonly { content: string }[] }): string {
  return request.messages ? request.messages.map((m) => m.content).join("\n") : (request.prompt ?? "");
}

/** The most frequent tokens of `tokenLists` that together make up half of all their tokens (ties by id, so the set is deterministic). */
export function commonTokens(tokenLists: readonly ArrayLike<number>[]): Set<number> {
  const counts = new Map<number, number>();
  let total = 0;
  for (const tokens of tokenLists) {
    for (let i = 0; i < tokens.length; i++) counts.set(tokens[i]!, (counts.get(tokens[i]!) ?? 0) + 1);
    total += tokens.length;
  }
  const common = new Set<number>();
  let covered = 0;
  for (const [token, count] of [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])) {
    if (covered >= commonTokenMass * total) break;
    common.add(token);
    covered += count;
  }
  return common;
}

/** One request's features in `promptFeatures` order; NaN for the ratios of an empty prompt, and for the common-token share without a reference. */
export function extractPromptFeatures(text: string, tokens: ArrayLike<number>, common: ReadonlySet<number> | undefined, out = new Float64Array(promptFeatures.length)): Float64Array {
  let inCommon = 0;
  if (common) for (let i = 0; i < tokens.length; i++) if (common.has(tokens[i]!)) inCommon++;
  out[0] = tokens.length;
  out[1] = tokens.length > 0 ? text.length / tokens.length : Number.NaN;
  out[2] = tokens.length > 0 && common ? inCommon / tokens.length : Number.NaN;
  return out;
}

function invalidReference(path: string, message: string): EdgeforgeError {
  return new EdgeforgeError("DATASET_INVALID", `${path}: ${message}`, {
    hint: 'an LLM\'s drift reference is a text file with one prompt per line, JSON lines (.jsonl) of {"prompt": "..."} or {"messages": [{"role": "user", "content": "..."}]}, or a .json array of them',
    details: { path },
  });
}

/** A record's prompt: a string, `prompt`, or the contents of `messages`. */
function promptOf(value: unknown, path: string, where: string): string {
  if (typeof value === "string") return value;
  const record = value as { prompt?: unknown; messages?: unknown } | null;
  if (typeof record?.prompt === "string") return record.prompt;
  if (Array.isArray(record?.messages) && record.messages.every((m) => typeof (m as { content?: unknown })?.content === "string")) return promptText({ messages: record.messages as { content: string }[] });
  throw invalidReference(path, `${where} has no "prompt" string or "messages" with string contents`);
}

function parseJson(text: string, path: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalidReference(path, `${where} is not JSON`);
  }
}

/** The prompts of an LLM drift reference (at most `maxRows`): a `.jsonl` file's lines, a `.json` array, or any other text file's non-empty lines. */
export async function readPromptReference(path: string, maxRows: number): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw fileError(error, path, "read");
  }
  const extension = extname(path).toLowerCase();
  let prompts: string[];
  if (extension === ".json") {
    const records = parseJson(text, path, "the file");
    if (!Array.isArray(records)) throw invalidReference(path, "is not a JSON array of prompts");
    prompts = records.slice(0, maxRows).map((record, index) => promptOf(record, path, `item ${index + 1}`));
  } else {
    const lines = text.split(/\r?\n/).map((line, index) => ({ line, number: index + 1 })).filter(({ line }) => line.trim() !== "").slice(0, maxRows);
    prompts = extension === ".jsonl" ? lines.map(({ line, number }) => promptOf(parseJson(line, path, `line ${number}`), path, `line ${number}`)) : lines.map(({ line }) => line);
  }
  if (prompts.length === 0) throw invalidReference(path, "has no prompts");
  return prompts;
}

/** The drift reference of an LLM: every reference prompt's features, with the common tokens taken from those prompts. */
export function buildPromptReference(source: string, prompts: readonly string[], tokenize: (text: string) => ArrayLike<number>): { reference: DriftReference; common: Set<number> } {
  const tokenLists = prompts.map((prompt) => tokenize(prompt));
  const common = commonTokens(tokenLists);
  const rows = prompts.map((prompt, i) => extractPromptFeatures(prompt, tokenLists[i]!, common));
  const columns = promptFeatures.map((_, k) => Float64Array.from(rows, (row) => row[k]!));
  return { reference: { source, rows: prompts.length, columns }, common };
}
