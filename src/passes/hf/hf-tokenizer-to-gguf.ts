import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { EdgeforgeError, fileError } from "../../core/errors.js";
import type { GgufValue } from "../../formats/gguf/gguf-metadata.js";
import { readJsonFile } from "../../formats/safetensors/read-hf-folder.js";
import type { LlamaHyperparameters } from "./llama-hyperparameters.js";
import { decodeSentencePieceModel, pieceTypes } from "./sentencepiece-model.js";
import { pathExists } from "../../core/path-exists.js";

/**
 * A Hugging Face tokenizer as the GGUF metadata llama.cpp expects (convert_hf_to_gguf's
 * set_vocab + gguf-py SpecialVocab). Three kinds are read:
 * - tokenizer.model (SentencePiece): tokenizer.ggml.model "llama", pre "default", pieces, scores, types;
 * - tokenizer.json BPE with byte_fallback (Llama-2-style fast tokenizer without tokenizer.model): "llama";
 *   scores are −(rank of the first merge producing the token), which orders merges exactly as the
 *   BPE merge list does (convert_hf_to_gguf writes a −1000 placeholder for every token instead);
 * - tokenizer.json byte-level BPE (Llama-3, Qwen2, GPT-2): "gpt2" with merges, and the
 *   pre-tokenizer named from its regex (llama-bpe, qwen2, gpt-2). Other tokenizers are refused.
 */
export type GgufTokenizerKind = "sentencepiece" | "hf-bpe-byte-fallback" | "byte-level-bpe";

export interface GgufTokenizer {
  kind: GgufTokenizerKind;
  metadata: Array<[string, GgufValue]>;
  tokenCount: number;
}

const tokenTypes = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

/** Split regexes of byte-level BPE tokenizer.json files → llama.cpp's pre-tokenizer names (llama-vocab.cpp). */
const knownPreTokenizers: ReadonlyArray<readonly [string, string]> = [
  [String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`, "llama-bpe"],
  [String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`, "qwen2"],
];

interface AddedToken {
  id: number;
  content: string;
  special: boolean;
}

interface TokenizerJson {
  model?: { type?: string; vocab?: Record<string, number>; merges?: Array<string | [string, string]>; byte_fallback?: boolean };
  added_tokens?: Array<{ id?: unknown; content?: unknown; special?: unknown }>;
  pre_tokenizer?: Record<string, unknown> | null;
  decoder?: Record<string, unknown> | null;
}



const str = (value: string): GgufValue => ({ type: "string", value });
const u32 = (value: number): GgufValue => ({ type: "uint32", value });
const bool = (value: boolean): GgufValue => ({ type: "bool", value });
const strings = (items: string[]): GgufValue => ({ type: "array", itemType: "string", items });

function unsupportedTokenizer(folder: string, what: string, details: Record<string, unknown> = {}): EdgeforgeError {
  return new EdgeforgeError("UNSUPPORTED_FEATURE", `${folder}: ${what}`, {
    hint: "supported: SentencePiece tokenizer.model, or tokenizer.json BPE (Llama-2 byte-fallback, or byte-level with the Llama-3 / Qwen2 / GPT-2 pre-tokenizer)",
    details: { folder, ...details },
  });
}

function addedTokensOf(json: TokenizerJson | undefined): AddedToken[] {
  return (json?.added_tokens ?? [])
    .filter((token) => typeof token.id === "number" && typeof token.content === "string")
    .map((token) => ({ id: token.id as number, content: token.content as string, special: token.special === true }));
}

/** Tokens like <|eot_id|> or <pad> that convert_hf_to_gguf treats as control tokens even when not flagged special. */
function looksSpecial(text: string): boolean {
  return ["<pad>", "<mask>", "<2mass>", "[@BOS@]"].includes(text) || (text.startsWith("<|") && text.endsWith("|>"));
}

export async function readHfTokenizer(folder: string, hp: LlamaHyperparameters, signal?: AbortSignal): Promise<GgufTokenizer> {
  const tokenizerConfig = (await pathExists(join(folder, "tokenizer_config.json"))) ? await readJsonFile(join(folder, "tokenizer_config.json"), signal) : {};
  const tokenizerJson = (await pathExists(join(folder, "tokenizer.json"))) ? ((await readJsonFile(join(folder, "tokenizer.json"), signal)) as TokenizerJson) : undefined;
  const modelPath = join(folder, "tokenizer.model");
  let vocabulary: { kind: GgufTokenizerKind; entries: Array<[string, GgufValue]>; tokens: string[]; unkFallback?: number };
  if (await pathExists(modelPath)) vocabulary = await sentencePieceVocabulary(modelPath, folder, hp, tokenizerConfig);
  else if (tokenizerJson?.model?.type === "BPE" && tokenizerJson.model.byte_fallback === true) vocabulary = byteFallbackVocabulary(tokenizerJson, hp);
  else if (tokenizerJson?.model?.type === "BPE") vocabulary = byteLevelVocabulary(tokenizerJson, hp, folder);
  else if (tokenizerJson) throw unsupportedTokenizer(folder, `tokenizer.json uses a ${tokenizerJson.model?.type ?? "unknown"} model`, { model: tokenizerJson.model?.type });
  else throw unsupportedTokenizer(folder, "has neither tokenizer.model nor tokenizer.json");

  const metadata = [...vocabulary.entries, ...(await specialTokenMetadata(folder, hp, tokenizerConfig, tokenizerJson, vocabulary))];
  return { kind: vocabulary.kind, metadata, tokenCount: vocabulary.tokens.length };
}

async function sentencePieceVocabulary(
  path: string,
  folder: string,
  hp: LlamaHyperparameters,
  tokenizerConfig: Record<string, unknown>,
): Promise<{ kind: GgufTokenizerKind; entries: Array<[string, GgufValue]>; tokens: string[]; unkFallback: number }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw fileError(error, path, "read");
  }
  const model = decodeSentencePieceModel(bytes, path);
  const size = hp.vocabSize;
  const tokens = Array.from({ length: size }, (_, id) => `[PAD${id}]`);
  const scores = new Float32Array(size).fill(-10000);
  const types = new Int32Array(size).fill(tokenTypes.unused);
  for (let id = 0; id < Math.min(model.pieces.length, hp.vocabSize); id += 1) {
    tokens[id] = model.pieces[id] as string;
    scores[id] = model.scores[id] as number;
    types[id] = model.types[id] ?? pieceTypes.normal;
  }
  const addedPath = join(folder, "added_tokens.json");
  if (await pathExists(addedPath)) {
    for (const [text, id] of Object.entries(await readJsonFile(addedPath))) {
      if (typeof id !== "number" || id >= size) continue;
      tokens[id] = text;
      scores[id] = -1000;
      types[id] = tokenTypes.userDefined;
    }
  }
  const decoder = tokenizerConfig.added_tokens_decoder;
  if (decoder && typeof decoder === "object") {
    for (const [key, entry] of Object.entries(decoder as Record<string, { content?: unknown; special?: unknown }>)) {
      const id = Number(key);
      if (!Number.isInteger(id) || id >= size || typeof entry.content !== "string") continue;
      const special = entry.special === true || looksSpecial(entry.content);
      tokens[id] = special ? entry.content : entry.content.replaceAll("\u2581", " ");
      types[id] = special ? tokenTypes.control : tokenTypes.userDefined;
      scores[id] = -1000;
    }
  }
  const entries: Array<[string, GgufValue]> = [
    ["tokenizer.ggml.model", str("llama")],
    ["tokenizer.ggml.pre", str("default")],
    ["tokenizer.ggml.tokens", strings(tokens)],
    ["tokenizer.ggml.scores", { type: "array", itemType: "float32", items: scores }],
    ["tokenizer.ggml.token_type", { type: "array", itemType: "int32", items: types }],
  ];
  if (typeof tokenizerConfig.add_prefix_space === "boolean") entries.push(["tokenizer.ggml.add_space_prefix", bool(tokenizerConfig.add_prefix_space)]);
  return { kind: "sentencepiece", entries, tokens, unkFallback: model.unkId };
}

function vocabularyInIdOrder(json: TokenizerJson, hp: LlamaHyperparameters): { tokens: string[]; types: Int32Array; added: Map<number, AddedToken> } {
  const vocab = json.model?.vocab ?? {};
  const added = new Map(addedTokensOf(json).map((token) => [token.id, token]));
  const size = hp.vocabSize;
  const outOfRange = [...Object.values(vocab), ...added.keys()].find((id) => !Number.isInteger(id) || id < 0 || id >= size);
  if (outOfRange !== undefined) {
    throw new EdgeforgeError("INVALID_CONFIG", `tokenizer.json has token id ${outOfRange}, outside config.json's vocab_size ${size}`, {
      hint: "the tokenizer and the model do not belong together",
      details: { tokenId: outOfRange, vocabSize: size },
    });
  }
  const tokens = Array.from({ length: size }, (_, id) => `[PAD${id}]`);
  const types = new Int32Array(size).fill(tokenTypes.unused);
  for (const [text, id] of Object.entries(vocab)) {
    tokens[id] = text;
    types[id] = tokenTypes.normal;
  }
  for (const token of added.values()) {
    const special = token.special || looksSpecial(token.content);
    tokens[token.id] = token.content;
    types[token.id] = special ? tokenTypes.control : tokenTypes.userDefined;
  }
  return { tokens, types, added };
}

function mergePairs(json: TokenizerJson): Array<[string, string]> {
  return (json.model?.merges ?? []).map((merge) => {
    if (Array.isArray(merge)) return [merge[0], merge[1]];
    const split = merge.indexOf(" ", 1);
    return [merge.slice(0, split), merge.slice(split + 1)];
  });
}

function byteFallbackVocabulary(json: TokenizerJson, hp: LlamaHyperparameters): { kind: GgufTokenizerKind; entries: Array<[string, GgufValue]>; tokens: string[] } {
  const { tokens, types, added } = vocabularyInIdOrder(json, hp);
  const ids = new Map(tokens.map((token, id) => [token, id]));
  const scores = new Float32Array(tokens.length).fill(-1000);
  for (const [rank, [left, right]] of mergePairs(json).entries()) {
    const id = ids.get(left + right);
    if (id !== undefined && scores[id] === -1000 && !added.has(id)) scores[id] = -rank;
  }
  const unkToken = (json.model as { unk_token?: unknown } | undefined)?.unk_token;
  tokens.forEach((token, id) => {
    if (/^<0x[0-9A-Fa-f]{2}>$/.test(token)) types[id] = tokenTypes.byte;
    else if (token === unkToken) types[id] = tokenTypes.unknown;
  });
  return {
    kind: "hf-bpe-byte-fallback",
    tokens,
    entries: [
      ["tokenizer.ggml.model", str("llama")],
      ["tokenizer.ggml.pre", str("default")],
      ["tokenizer.ggml.tokens", strings(tokens)],
      ["tokenizer.ggml.scores", { type: "array", itemType: "float32", items: scores }],
      ["tokenizer.ggml.token_type", { type: "array", itemType: "int32", items: types }],
    ],
  };
}

function preTokenizerName(json: TokenizerJson, folder: string): string {
  const pre = json.pre_tokenizer ?? {};
  const parts = pre.type === "Sequence" && Array.isArray(pre.pretokenizers) ? (pre.pretokenizers as Array<Record<string, unknown>>) : [pre];
  const split = parts.find((part) => part.type === "Split");
  const byteLevel = parts.find((part) => part.type === "ByteLevel");
  if (!byteLevel) throw unsupportedTokenizer(folder, "tokenizer.json is a BPE without a ByteLevel pre-tokenizer or byte_fallback", { preTokenizer: pre });
  if (!split) {
    if (byteLevel.use_regex !== false) return "gpt-2";
    throw unsupportedTokenizer(folder, "tokenizer.json's ByteLevel pre-tokenizer has no splitting regex", { preTokenizer: pre });
  }
  const pattern = (split.pattern as { Regex?: unknown } | undefined)?.Regex;
  const known = knownPreTokenizers.find(([regex]) => regex === pattern);
  if (!known) {
    throw unsupportedTokenizer(folder, "tokenizer.json's pre-tokenizer regex is not one llama.cpp names (Llama-3, Qwen2, GPT-2 are supported)", { regex: pattern });
  }
  return known[1];
}

function byteLevelVocabulary(json: TokenizerJson, hp: LlamaHyperparameters, folder: string): { kind: GgufTokenizerKind; entries: Array<[string, GgufValue]>; tokens: string[] } {
  const pre = preTokenizerName(json, folder);
  const { tokens, types } = vocabularyInIdOrder(json, hp);
  const merges = mergePairs(json).map(([left, right]) => `${left} ${right}`);
  return {
    kind: "byte-level-bpe",
    tokens,
    entries: [
      ["tokenizer.ggml.model", str("gpt2")],
      ["tokenizer.ggml.pre", str(pre)],
      ["tokenizer.ggml.tokens", strings(tokens)],
      ["tokenizer.ggml.token_type", { type: "array", itemType: "int32", items: types }],
      ["tokenizer.ggml.merges", strings(merges)],
    ],
  };
}

/** bos/eos/unk/pad ids, add_bos/add_eos and the chat template, as gguf-py's SpecialVocab finds them. */
async function specialTokenMetadata(
  folder: string,
  hp: LlamaHyperparameters,
  tokenizerConfig: Record<string, unknown>,
  tokenizerJson: TokenizerJson | undefined,
  vocabulary: { tokens: string[]; unkFallback?: number },
): Promise<Array<[string, GgufValue]>> {
  const added = addedTokensOf(tokenizerJson);
  const ids = new Map<string, number>();
  for (const type of ["bos", "eos", "unk", "pad"] as const) {
    const entry = tokenizerConfig[`${type}_token`];
    const content = typeof entry === "string" ? entry : typeof (entry as { content?: unknown } | null)?.content === "string" ? (entry as { content: string }).content : undefined;
    const id = content === undefined ? undefined : added.find((token) => token.content === content)?.id;
    if (id !== undefined && id < vocabulary.tokens.length) ids.set(type, id);
  }
  const fromConfig: Record<string, number | undefined> = { bos: hp.bosTokenId, eos: hp.eosTokenId };
  for (const [type, id] of Object.entries(fromConfig)) if (!ids.has(type) && id !== undefined && id < vocabulary.tokens.length) ids.set(type, id);
  if (!ids.has("unk") && vocabulary.unkFallback !== undefined && vocabulary.unkFallback >= 0) ids.set("unk", vocabulary.unkFallback);

  const entries: Array<[string, GgufValue]> = [];
  const names: Record<string, string> = { bos: "bos_token_id", eos: "eos_token_id", unk: "unknown_token_id", pad: "padding_token_id" };
  for (const [type, id] of ids) entries.push([`tokenizer.ggml.${names[type]}`, u32(id)]);
  for (const type of ["bos", "eos"] as const) {
    const flag = tokenizerConfig[`add_${type}_token`];
    if (typeof flag === "boolean") entries.push([`tokenizer.ggml.add_${type}_token`, bool(flag)]);
  }
  const template = await chatTemplateOf(folder, tokenizerConfig);
  if (template !== undefined) entries.push(["tokenizer.chat_template", str(template)]);
  return entries;
}

async function chatTemplateOf(folder: string, tokenizerConfig: Record<string, unknown>): Promise<string | undefined> {
  const fromConfig = tokenizerConfig.chat_template;
  if (typeof fromConfig === "string") return fromConfig;
  if (Array.isArray(fromConfig)) {
    const named = fromConfig.find((entry: { name?: unknown }) => entry?.name === "default") as { template?: unknown } | undefined;
    if (typeof named?.template === "string") return named.template;
  }
  const jinja = join(folder, "chat_template.jinja");
  if (await pathExists(jinja)) return readFile(jinja, "utf8");
  const json = join(folder, "chat_template.json");
  if (await pathExists(json)) {
    const template = (await readJsonFile(json)).chat_template;
    if (typeof template === "string") return template;
  }
  return undefined;
}
