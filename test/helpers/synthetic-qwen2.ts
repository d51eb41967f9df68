import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeSafetensorsFile, type SafetensorsTensorInput } from "../../src/formats/safetensors/write-safetensors-file.js";

/** GPT-2's bytes_to_unicode: every byte as a printable character, as byte-level BPE vocabularies store them. */
export function byteToUnicode(): string[] {
  const printable = [...range(33, 126), ...range(161, 172), ...range(174, 255)];
  const map: string[] = new Array<string>(256);
  let extra = 0;
  for (let byte = 0; byte < 256; byte += 1) map[byte] = String.fromCodePoint(printable.includes(byte) ? byte : 256 + extra++);
  return map;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Deterministic small weights (a linear congruential generator), so the model is the same on every run. */
function randomValues(count: number, seed: number, scale: number): Float32Array {
  const values = new Float32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i += 1) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = (state / 2 ** 32 - 0.5) * 2 * scale;
  }
  return values;
}

export const qwen2Regex = String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;

/**
 * A random-weight Qwen2 checkpoint (GQA, q/k/v biases, tied embeddings) with a byte-level BPE
 * tokenizer.json using Qwen2's pre-tokenizer regex: no trained Qwen2 exists here, so this checks
 * the conversion path (names, no permutation, biases, tokenizer metadata) against a reference.
 */
export async function writeSyntheticQwen2(folder: string, regex = qwen2Regex): Promise<{ vocabSize: number }> {
  const hidden = 64;
  const heads = 4;
  const kvHeads = 2;
  const headDim = hidden / heads;
  const ff = 128;
  const layers = 2;
  const bytes = byteToUnicode();
  const merges: Array<[string, string]> = [["h", "e"], ["l", "l"], ["he", "ll"], ["hell", "o"], ["Ġ", "w"], ["o", "r"], ["Ġw", "or"], ["l", "d"], ["Ġwor", "ld"]];
  const vocab: Record<string, number> = {};
  bytes.forEach((text, id) => (vocab[text] = id));
  for (const [a, b] of merges) vocab[a + b] = Object.keys(vocab).length;
  const eos = Object.keys(vocab).length;
  const vocabSize = 288;
  const tensors: SafetensorsTensorInput[] = [];
  let seed = 1;
  const add = (name: string, shape: number[], scale = 0.08, offset = 0): void => {
    const values = randomValues(shape.reduce((a, b) => a * b, 1), seed++, scale).map((v) => v + offset);
    tensors.push({ name, dtype: "F32" as const, shape, data: new Uint8Array(values.buffer) });
  };
  add("model.embed_tokens.weight", [vocabSize, hidden], 0.5);
  for (let layer = 0; layer < layers; layer += 1) {
    const p = `model.layers.${layer}.`;
    add(`${p}input_layernorm.weight`, [hidden], 0.1, 1);
    add(`${p}self_attn.q_proj.weight`, [heads * headDim, hidden]);
    add(`${p}self_attn.q_proj.bias`, [heads * headDim], 0.1);
    add(`${p}self_attn.k_proj.weight`, [kvHeads * headDim, hidden]);
    add(`${p}self_attn.k_proj.bias`, [kvHeads * headDim], 0.1);
    add(`${p}self_attn.v_proj.weight`, [kvHeads * headDim, hidden]);
    add(`${p}self_attn.v_proj.bias`, [kvHeads * headDim], 0.1);
    add(`${p}self_attn.o_proj.weight`, [hidden, heads * headDim]);
    add(`${p}post_attention_layernorm.weight`, [hidden], 0.1, 1);
    add(`${p}mlp.gate_proj.weight`, [ff, hidden]);
    add(`${p}mlp.up_proj.weight`, [ff, hidden]);
    add(`${p}mlp.down_proj.weight`, [hidden, ff]);
  }
  add("model.norm.weight", [hidden], 0.1, 1);
  await mkdir(folder, { recursive: true });
  await writeSafetensorsFile(join(folder, "model.safetensors"), tensors, { format: "pt" });
  const config = {
    architectures: ["Qwen2ForCausalLM"],
    model_type: "qwen2",
    hidden_size: hidden,
    intermediate_size: ff,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    max_position_embeddings: 128,
    rms_norm_eps: 1e-6,
    rope_theta: 1_000_000,
    vocab_size: vocabSize,
    tie_word_embeddings: true,
    bos_token_id: eos,
    eos_token_id: eos,
    torch_dtype: "float32",
  };
  await writeFile(join(folder, "config.json"), JSON.stringify(config));
  const tokenizer = {
    version: "1.0",
    added_tokens: [{ id: eos, content: "<|endoftext|>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: { type: "NFC" },
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        { type: "Split", pattern: { Regex: regex }, behavior: "Isolated", invert: false },
        { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false },
      ],
    },
    decoder: { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false },
    model: { type: "BPE", dropout: null, unk_token: null, byte_fallback: false, ignore_merges: false, vocab, merges },
  };
  await writeFile(join(folder, "tokenizer.json"), JSON.stringify(tokenizer));
  await writeFile(join(folder, "tokenizer_config.json"), JSON.stringify({ eos_token: "<|endoftext|>", add_bos_token: false, chat_template: "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}" }));
  return { vocabSize };
}
