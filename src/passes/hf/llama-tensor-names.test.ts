import { describe, expect, it } from "vitest";
import { ggufTensorName, hfTensorName, permuteRopeRows } from "./llama-tensor-names.js";

/** convert_hf_to_gguf's permute written with numpy's semantics: reshape(h, 2, rows/h/2, cols) → swapaxes(1, 2) → reshape. */
function numpyPermute(values: Float32Array, heads: number, cols: number): Float32Array {
  const rows = values.length / cols;
  const half = rows / heads / 2;
  const out = new Float32Array(values.length);
  // Output index (h, i, p, c) in the swapped [h, half, 2, cols] array reads input (h, p, i, c) of the [h, 2, half, cols] view.
  for (let h = 0; h < heads; h += 1)
    for (let i = 0; i < half; i += 1)
      for (let p = 0; p < 2; p += 1)
        for (let c = 0; c < cols; c += 1) out[((h * half + i) * 2 + p) * cols + c] = values[((h * 2 + p) * half + i) * cols + c] as number;
  return out;
}

describe("Q/K RoPE row permutation", () => {
  const heads = 3;
  const cols = 5;
  const values = Float32Array.from({ length: heads * 8 * cols }, (_, i) => i);

  it("equals convert_hf_to_gguf's reshape/swapaxes permutation", () => {
    expect(Array.from(permuteRopeRows(values, heads, cols, true))).toEqual(Array.from(numpyPermute(values, heads, cols)));
  });

  it("is undone by the inverse, for matrices and biases", () => {
    expect(Array.from(permuteRopeRows(permuteRopeRows(values, heads, cols, true), heads, cols, false))).toEqual(Array.from(values));
    const bias = Float32Array.from({ length: 16 }, (_, i) => i);
    expect(Array.from(permuteRopeRows(bias, 2, 1, true))).toEqual([0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15]);
  });

  it("refuses rows that do not split into even heads", () => {
    expect(() => permuteRopeRows(new Float32Array(6 * 4), 4, 4, true)).toThrow(/heads of an even size/);
  });
});

describe("tensor names", () => {
  it("maps Hugging Face names to GGUF and back", () => {
    const pairs: Array<[string, string]> = [
      ["model.embed_tokens.weight", "token_embd.weight"],
      ["lm_head.weight", "output.weight"],
      ["model.layers.3.self_attn.q_proj.weight", "blk.3.attn_q.weight"],
      ["model.layers.0.self_attn.k_proj.bias", "blk.0.attn_k.bias"],
      ["model.layers.12.mlp.down_proj.weight", "blk.12.ffn_down.weight"],
      ["model.layers.1.post_attention_layernorm.weight", "blk.1.ffn_norm.weight"],
    ];
    for (const [hf, gguf] of pairs) {
      expect(ggufTensorName(hf, "m")).toBe(gguf);
      expect(hfTensorName(gguf)).toBe(hf);
    }
    expect(ggufTensorName("model.layers.0.self_attn.rotary_emb.inv_freq", "m")).toBeUndefined();
    expect(() => ggufTensorName("model.vision_tower.patch_embed.weight", "m")).toThrow(/no place/);
  });
});
