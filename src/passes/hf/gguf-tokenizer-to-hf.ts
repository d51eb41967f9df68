import { EdgeforgeError } from "../../core/errors.js";
import { getGgufNumber, getGgufString, type GgufMetadata } from "../../formats/gguf/gguf-metadata.js";
import { encodeSentencePieceModel, pieceTypes, type SentencePieceModel } from "./sentencepiece-model.js";

/**
 * A GGUF SentencePiece vocabulary (tokenizer.ggml.model "llama") as Hugging Face tokenizer files:
 * tokenizer.model (SentencePiece BPE with byte fallback, as Llama/Mistral ship it),
 * tokenizer_config.json, and optionally tokenizer.json (a fast BPE tokenizer whose merges are
 * extracted from the pieces the way transformers' SentencePieceExtractor does).
 */
export interface HfTokenizerFiles {
  files: Array<{ name: string; bytes: Uint8Array }>;
}

interface GgufSpmVocabulary {
  tokens: string[];
  scores: Float32Array;
  types: Int32Array;
  bos: number;
  eos: number;
  unk: number;
  pad: number;
  addBos: boolean;
  addEos: boolean;
  addSpacePrefix: boolean;
  chatTemplate: string | undefined;
}

function readSpmVocabulary(metadata: GgufMetadata, where: string): GgufSpmVocabulary {
  const model = getGgufString(metadata, "tokenizer.ggml.model");
  const tokens = metadata.get("tokenizer.ggml.tokens");
  const scores = metadata.get("tokenizer.ggml.scores");
  const types = metadata.get("tokenizer.ggml.token_type");
  if (model !== "llama" || tokens?.type !== "array" || tokens.itemType !== "string") {
    throw new EdgeforgeError("UNSUPPORTED_FEATURE", `${where} has a ${model ?? "missing"} tokenizer; only SentencePiece ("llama") vocabularies are exported as tokenizer files`, {
      hint: "export llama/mistral GGUFs with a SentencePiece vocabulary",
      details: { tokenizerModel: model },
    });
  }
  const count = tokens.items.length;
  const flag = (key: string, fallback: boolean): boolean => {
    const entry = metadata.get(key);
    return entry?.type === "bool" ? entry.value : fallback;
  };
  return {
    tokens: tokens.items as string[],
    scores: scores?.type === "array" && scores.items instanceof Float32Array ? scores.items : new Float32Array(count),
    types: types?.type === "array" && types.items instanceof Int32Array ? types.items : new Int32Array(count).fill(pieceTypes.normal),
    bos: getGgufNumber(metadata, "tokenizer.ggml.bos_token_id") ?? 1,
    eos: getGgufNumber(metadata, "tokenizer.ggml.eos_token_id") ?? 2,
    unk: getGgufNumber(metadata, "tokenizer.ggml.unknown_token_id") ?? 0,
    pad: getGgufNumber(metadata, "tokenizer.ggml.padding_token_id") ?? -1,
    addBos: flag("tokenizer.ggml.add_bos_token", true),
    addEos: flag("tokenizer.ggml.add_eos_token", false),
    addSpacePrefix: flag("tokenizer.ggml.add_space_prefix", true),
    chatTemplate: getGgufString(metadata, "tokenizer.chat_template"),
  };
}

/** transformers' SentencePieceExtractor: every split of a piece into two pieces is a merge, ranked by the merged piece's score. */
export function extractMerges(tokens: string[], scores: Float32Array, types: Int32Array): Array<[string, string]> {
  const ids = new Map<string, number>();
  tokens.forEach((token, id) => ids.set(token, id));
  const candidates: Array<{ left: string; right: string; score: number; leftId: number; rightId: number }> = [];
  tokens.forEach((token, id) => {
    if (types[id] !== pieceTypes.normal && types[id] !== pieceTypes.userDefined) return;
    const chars = Array.from(token);
    for (let split = 1; split < chars.length; split += 1) {
      const left = chars.slice(0, split).join("");
      const right = chars.slice(split).join("");
      const leftId = ids.get(left);
      const rightId = ids.get(right);
      if (leftId !== undefined && rightId !== undefined) candidates.push({ left, right, score: scores[id] as number, leftId, rightId });
    }
  });
  candidates.sort((a, b) => b.score - a.score || a.leftId - b.leftId || a.rightId - b.rightId);
  return candidates.map(({ left, right }) => [left, right]);
}

const json = (value: unknown): Uint8Array => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

export function ggufTokenizerToHf(metadata: GgufMetadata, where: string, options: { tokenizerJson: boolean; contextLength: number }): HfTokenizerFiles {
  const vocab = readSpmVocabulary(metadata, where);
  const { tokens } = vocab;
  const byteFallback = Array.from(vocab.types).some((type) => type === pieceTypes.byte);
  const model: SentencePieceModel = {
    pieces: tokens,
    scores: vocab.scores,
    types: vocab.types,
    modelType: 2,
    byteFallback,
    unkId: vocab.unk,
    bosId: vocab.bos,
    eosId: vocab.eos,
    padId: vocab.pad,
    normalizerName: "identity",
    addDummyPrefix: vocab.addSpacePrefix,
    removeExtraWhitespaces: false,
    escapeWhitespaces: true,
  };
  const tokenizerConfig = {
    tokenizer_class: "LlamaTokenizer",
    add_bos_token: vocab.addBos,
    add_eos_token: vocab.addEos,
    bos_token: tokens[vocab.bos],
    eos_token: tokens[vocab.eos],
    unk_token: tokens[vocab.unk],
    pad_token: vocab.pad >= 0 ? tokens[vocab.pad] : null,
    model_max_length: options.contextLength,
    legacy: true,
    clean_up_tokenization_spaces: false,
    ...(vocab.chatTemplate === undefined ? {} : { chat_template: vocab.chatTemplate }),
  };
  const files = [
    { name: "tokenizer.model", bytes: encodeSentencePieceModel(model) },
    { name: "tokenizer_config.json", bytes: json(tokenizerConfig) },
    { name: "special_tokens_map.json", bytes: json({ bos_token: tokenizerConfig.bos_token, eos_token: tokenizerConfig.eos_token, unk_token: tokenizerConfig.unk_token }) },
  ];
  if (options.tokenizerJson) files.push({ name: "tokenizer.json", bytes: json(fastTokenizerJson(vocab, byteFallback)) });
  return { files };
}

function fastTokenizerJson(vocab: GgufSpmVocabulary, byteFallback: boolean): Record<string, unknown> {
  const { tokens, types } = vocab;
  const specialIds = tokens.map((_, id) => id).filter((id) => types[id] === pieceTypes.control || types[id] === pieceTypes.unknown);
  const bosText = tokens[vocab.bos];
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: specialIds.map((id) => ({ id, content: tokens[id], single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: {
      type: "Sequence",
      normalizers: [...(vocab.addSpacePrefix ? [{ type: "Prepend", prepend: "\u2581" }] : []), { type: "Replace", pattern: { String: " " }, content: "\u2581" }],
    },
    pre_tokenizer: null,
    post_processor: vocab.addBos
      ? { type: "TemplateProcessing", single: [{ SpecialToken: { id: bosText, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }], pair: [], special_tokens: { [bosText as string]: { id: bosText, ids: [vocab.bos], tokens: [bosText] } } }
      : null,
    decoder: {
      type: "Sequence",
      decoders: [
        { type: "Replace", pattern: { String: "\u2581" }, content: " " },
        { type: "ByteFallback" },
        { type: "Fuse" },
        ...(vocab.addSpacePrefix ? [{ type: "Strip", content: " ", start: 1, stop: 0 }] : []),
      ],
    },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: tokens[vocab.unk],
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: byteFallback,
      ignore_merges: false,
      vocab: Object.fromEntries(tokens.map((token, id) => [token, id])),
      merges: extractMerges(tokens, vocab.scores, types),
    },
  };
}
