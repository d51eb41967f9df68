import { EdgeforgeError } from "../../core/errors.js";
import { readGgufHeader } from "./read-gguf.js";

/** A GGUF with no tensors (llama.cpp ships such vocabulary-only files for tokenizer tests): nothing to transform or run. */
export function vocabularyOnlyError(path: string, step: string): EdgeforgeError {
  return new EdgeforgeError("NOTHING_TO_DO", `${path} is a vocabulary-only GGUF: a tokenizer and no weight tensors, so there is nothing to ${step}`, {
    hint: "pass the full model GGUF (one with weight tensors); `edgeforge inspect` shows what a file holds",
    details: { path, tensorCount: 0 },
  });
}

/** Refuse a vocabulary-only GGUF before any work (reads the header only). */
export async function refuseVocabularyOnlyGguf(path: string, step: string, signal?: AbortSignal): Promise<void> {
  const header = await readGgufHeader(path, signal ? { signal } : {});
  if (header.tensors.length === 0) throw vocabularyOnlyError(path, step);
}
