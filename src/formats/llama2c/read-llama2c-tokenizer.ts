import { readFile } from "node:fs/promises";
import { EdgeforgeError, fileError } from "../../core/errors.js";

/** SentencePiece piece types as GGUF stores them (tokenizer.ggml.token_type). */
const tokenTypes = { normal: 1, unknown: 2, control: 3, byte: 6 } as const;

export interface Llama2cTokenizer {
  tokens: string[];
  scores: Float32Array;
  tokenTypes: Int32Array;
  maxTokenLength: number;
}

/**
 * llama2.c's tokenizer.bin (tokenizer.py `export`): int32 max_token_length, then per token a
 * float32 score, an int32 byte length and the UTF-8 piece. The export wrote SentencePiece's "▁"
 * as a space and BOS/EOS as "\n<s>\n" / "\n</s>\n"; both are undone here. Ids follow llama2.c's
 * SentencePiece convention: 0 unknown, 1 BOS, 2 EOS.
 */
export async function readLlama2cTokenizer(path: string, expectedTokens: number): Promise<Llama2cTokenizer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw fileError(error, path, "read");
  }
  const corrupt = (what: string): EdgeforgeError =>
    new EdgeforgeError("CORRUPT_MODEL", `${path}: ${what}`, {
      hint: `a llama2.c tokenizer.bin for this model holds ${expectedTokens} tokens (int32 max length, then score/length/bytes per token); export it again with llama2.c's tokenizer.py`,
      details: { path, expectedTokens },
    });
  if (bytes.length < 4) throw corrupt("is too short to be a tokenizer.bin");
  const maxTokenLength = bytes.readInt32LE(0);
  if (maxTokenLength <= 0 || maxTokenLength > 1 << 16) throw corrupt(`its max token length ${maxTokenLength} is impossible`);
  const decoder = new TextDecoder("utf-8", { fatal: false });
  const tokens: string[] = [];
  const scores = new Float32Array(expectedTokens);
  const types = new Int32Array(expectedTokens);
  let offset = 4;
  for (let id = 0; id < expectedTokens; id += 1) {
    if (offset + 8 > bytes.length) throw corrupt(`ends after ${id} tokens`);
    scores[id] = bytes.readFloatLE(offset);
    const length = bytes.readInt32LE(offset + 4);
    offset += 8;
    if (length < 0 || length > maxTokenLength + 8 || offset + length > bytes.length) throw corrupt(`token ${id} has an impossible length ${length}`);
    const text = decoder.decode(bytes.subarray(offset, offset + length));
    offset += length;
    const [piece, type] = pieceOf(id, text);
    tokens.push(piece);
    types[id] = type;
  }
  if (offset !== bytes.length) throw corrupt(`holds ${bytes.length - offset} bytes after token ${expectedTokens - 1}: it belongs to a model with a larger vocabulary`);
  return { tokens, scores, tokenTypes: types, maxTokenLength };
}

function pieceOf(id: number, text: string): [string, number] {
  if (id === 0) return ["<unk>", tokenTypes.unknown];
  if (id === 1) return ["<s>", tokenTypes.control];
  if (id === 2) return ["</s>", tokenTypes.control];
  if (/^<0x[0-9A-F]{2}>$/.test(text)) return [text, tokenTypes.byte];
  return [text.replaceAll(" ", "\u2581"), tokenTypes.normal];
}
