import { writeFile } from "node:fs/promises";
import { getGgufNumber, type GgufMetadata } from "../../src/formats/gguf/gguf-metadata.js";
import { readGgufHeader } from "../../src/formats/gguf/read-gguf.js";
import { readGgufTensorData } from "../../src/formats/gguf/read-gguf-tensor-data.js";

/**
 * A llama2.c tokenizer.bin written from a GGUF's SentencePiece vocabulary the way llama2.c's
 * tokenizer.py exports one ("▁" as a space, BOS/EOS as "\n<s>\n" / "\n</s>\n"), since no
 * tok512.bin could be obtained (MODELS.md).
 */
export async function writeLlama2cTokenizer(metadata: GgufMetadata, path: string): Promise<void> {
  const tokens = metadata.get("tokenizer.ggml.tokens");
  const scores = metadata.get("tokenizer.ggml.scores");
  if (tokens?.type !== "array" || scores?.type !== "array") throw new Error("no vocabulary");
  const pieces = (tokens.items as string[]).map((piece, id) => Buffer.from(id === 1 ? "\n<s>\n" : id === 2 ? "\n</s>\n" : piece.replaceAll("\u2581", " "), "utf8"));
  const maxLength = Math.max(...pieces.map((piece) => piece.length));
  const parts: Buffer[] = [Buffer.alloc(4)];
  (parts[0] as Buffer).writeInt32LE(maxLength, 0);
  pieces.forEach((piece, id) => {
    const head = Buffer.alloc(8);
    head.writeFloatLE((scores.items as Float32Array)[id] as number, 0);
    head.writeInt32LE(piece.length, 4);
    parts.push(head, piece);
  });
  await writeFile(path, Buffer.concat(parts));
}

/** Text of SentencePiece pieces ("▁" → space, <0xNN> → that byte). */
export function piecesToText(metadata: GgufMetadata, ids: Int32Array): string {
  const tokens = metadata.get("tokenizer.ggml.tokens");
  if (tokens?.type !== "array") throw new Error("no vocabulary");
  const bytes: number[] = [];
  for (const id of ids) {
    const piece = (tokens.items as string[])[id] as string;
    const byte = /^<0x([0-9A-F]{2})>$/.exec(piece);
    if (byte) bytes.push(Number.parseInt(byte[1] as string, 16));
    else bytes.push(...Buffer.from(piece.replaceAll("\u2581", " "), "utf8"));
  }
  return Buffer.from(bytes).toString("utf8");
}

/**
 * The same weights in llama2.c's version-1 layout (export.py version1_export): a 256-byte
 * header ("ak42", version 1, config, shared-classifier flag), norms first, no RoPE tables.
 */
export function legacyToVersion1(legacy: Uint8Array): Uint8Array {
  const view = new DataView(legacy.buffer, legacy.byteOffset, legacy.byteLength);
  const config = Array.from({ length: 7 }, (_, i) => view.getInt32(i * 4, true));
  const [dim, hidden, layers, heads, kvHeads, signedVocab, seqLen] = config as [number, number, number, number, number, number, number];
  if (signedVocab < 0) throw new Error("only checkpoints whose classifier is shared with the embedding are repacked");
  const vocab = signedVocab;
  const kvDim = (kvHeads * dim) / heads;
  const floats = new Float32Array(new Uint8Array(legacy.subarray(28)).buffer);
  let offset = 0;
  const take = (count: number): Float32Array => {
    const part = floats.subarray(offset, offset + count);
    offset += count;
    return part;
  };
  const embedding = take(vocab * dim);
  const rmsAtt = take(layers * dim);
  const wq = take(layers * dim * dim);
  const wk = take(layers * kvDim * dim);
  const wv = take(layers * kvDim * dim);
  const wo = take(layers * dim * dim);
  const rmsFfn = take(layers * dim);
  const w1 = take(layers * hidden * dim);
  const w2 = take(layers * dim * hidden);
  const w3 = take(layers * hidden * dim);
  const rmsFinal = take(dim);
  take(seqLen * (dim / heads)); // freq_cis_real and freq_cis_imag: version 1 has no RoPE tables
  const header = new Uint8Array(256);
  const headerView = new DataView(header.buffer);
  headerView.setUint32(0, 0x616b3432, true);
  headerView.setInt32(4, 1, true);
  [dim, hidden, layers, heads, kvHeads, vocab, seqLen].forEach((value, i) => headerView.setInt32(8 + i * 4, value, true));
  header[36] = 1;
  const body = [rmsAtt, rmsFfn, rmsFinal, embedding, wq, wk, wv, wo, w1, w2, w3];
  const out = new Uint8Array(256 + body.reduce((sum, part) => sum + part.byteLength, 0));
  out.set(header);
  let at = 256;
  for (const part of body) {
    out.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), at);
    at += part.byteLength;
  }
  return out;
}

/**
 * A llama2.c legacy checkpoint in export.py's layout (weights row-major [out, in], stacked per
 * layer), written from a llama GGUF's F32 tensors. The shared stories260K.llama2c.bin cannot serve
 * for this: its embedding, norms and RoPE tables are llama2.c's, but its matrices were rearranged
 * in place by the RISC-V fork's transpose tools (see the test), so no llama2.c reader decodes it.
 */
export async function writeLlama2cFromGguf(ggufPath: string, config: { seqLen: number }, outPath: string): Promise<void> {
  const header = await readGgufHeader(ggufPath);
  const number = (key: string): number => getGgufNumber(header.metadata, `llama.${key}`) as number;
  const [dim, hidden, layers, heads, kvHeads] = [number("embedding_length"), number("feed_forward_length"), number("block_count"), number("attention.head_count"), number("attention.head_count_kv")];
  const tensor = async (name: string): Promise<Uint8Array> => readGgufTensorData(ggufPath, header, name);
  const vocab = (header.tensors.find((t) => t.name === "token_embd.weight")?.dims[1] ?? 0) as number;
  const head = new Uint8Array(28);
  const view = new DataView(head.buffer);
  [dim, hidden, layers, heads, kvHeads, vocab, config.seqLen].forEach((value, i) => view.setInt32(i * 4, value, true));
  const parts: Uint8Array[] = [head, await tensor("token_embd.weight")];
  const perLayer = async (part: string): Promise<void> => {
    for (let layer = 0; layer < layers; layer += 1) parts.push(await tensor(`blk.${layer}.${part}.weight`));
  };
  for (const part of ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_down", "ffn_up"]) await perLayer(part);
  parts.push(await tensor("output_norm.weight"));
  // freq_cis_real / freq_cis_imag: llama2.c's RoPE tables, unused by readers since 2023.
  const headDim = dim / heads;
  const real = new Float32Array((config.seqLen * headDim) / 2);
  const imag = new Float32Array(real.length);
  for (let t = 0; t < config.seqLen; t += 1) {
    for (let i = 0; i < headDim / 2; i += 1) {
      const angle = t / 10000 ** ((2 * i) / headDim);
      real[t * (headDim / 2) + i] = Math.cos(angle);
      imag[t * (headDim / 2) + i] = Math.sin(angle);
    }
  }
  parts.push(new Uint8Array(real.buffer), new Uint8Array(imag.buffer));
  await writeFile(outPath, Buffer.concat(parts));
}
