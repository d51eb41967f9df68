import { EdgeforgeError } from "../../core/errors.js";
import type { LlamaHyperparameters } from "./llama-hyperparameters.js";

/** Hugging Face ↔ GGUF tensor names for llama/mistral/qwen2 (gguf-py tensor_mapping.py). */
const globalNames: ReadonlyArray<readonly [string, string]> = [
  ["model.embed_tokens.weight", "token_embd.weight"],
  ["model.norm.weight", "output_norm.weight"],
  ["lm_head.weight", "output.weight"],
];

const layerNames: ReadonlyArray<readonly [string, string]> = [
  ["input_layernorm.weight", "attn_norm.weight"],
  ["self_attn.q_proj.weight", "attn_q.weight"],
  ["self_attn.q_proj.bias", "attn_q.bias"],
  ["self_attn.k_proj.weight", "attn_k.weight"],
  ["self_attn.k_proj.bias", "attn_k.bias"],
  ["self_attn.v_proj.weight", "attn_v.weight"],
  ["self_attn.v_proj.bias", "attn_v.bias"],
  ["self_attn.o_proj.weight", "attn_output.weight"],
  ["post_attention_layernorm.weight", "ffn_norm.weight"],
  ["mlp.gate_proj.weight", "ffn_gate.weight"],
  ["mlp.up_proj.weight", "ffn_up.weight"],
  ["mlp.down_proj.weight", "ffn_down.weight"],
];

/** Tensors checkpoints carry that the model does not use (convert_hf_to_gguf skips them too). */
const ignoredHfTensor = /(^|\.)rotary_emb\.inv_freq$|\.attention\.masked_bias$|\.attention\.bias$/;

const hfLayer = /^model\.layers\.(\d+)\.(.+)$/;
const ggufLayer = /^blk\.(\d+)\.(.+)$/;

/** The GGUF name of a Hugging Face tensor; undefined for tensors the model does not use. */
export function ggufTensorName(hfName: string, where: string): string | undefined {
  if (ignoredHfTensor.test(hfName)) return undefined;
  const global = globalNames.find(([hf]) => hf === hfName);
  if (global) return global[1];
  const match = hfLayer.exec(hfName);
  const mapped = match ? layerNames.find(([hf]) => hf === match[2]) : undefined;
  if (match && mapped) return `blk.${match[1]}.${mapped[1]}`;
  throw new EdgeforgeError("UNSUPPORTED_FEATURE", `${where} holds tensor "${hfName}", which has no place in a llama-family GGUF`, {
    hint: "the converter handles plain Llama/Mistral/Qwen2 decoder checkpoints (no adapters, MoE or vision towers)",
    details: { tensor: hfName },
  });
}

/** The Hugging Face name of a GGUF tensor (the inverse of ggufTensorName). */
export function hfTensorName(ggufName: string): string | undefined {
  const global = globalNames.find(([, gguf]) => gguf === ggufName);
  if (global) return global[0];
  const match = ggufLayer.exec(ggufName);
  const mapped = match ? layerNames.find(([, gguf]) => gguf === match[2]) : undefined;
  return match && mapped ? `model.layers.${match[1]}.${mapped[0]}` : undefined;
}

/** Heads whose Q/K rows llama.cpp expects interleaved: Q uses the attention heads, K the KV heads. Qwen2 is stored unpermuted. */
export function ropeHeadsOf(ggufName: string, hp: LlamaHyperparameters): number | undefined {
  if (hp.ggufArchitecture !== "llama") return undefined;
  if (/\.attn_q\.(weight|bias)$/.test(ggufName)) return hp.headCount;
  if (/\.attn_k\.(weight|bias)$/.test(ggufName)) return hp.kvHeadCount;
  return undefined;
}

/**
 * convert_hf_to_gguf's `LlamaModel.permute`: within each head, HF keeps the two RoPE halves as
 * separate row blocks (rotate_half), llama.cpp wants them interleaved. With d = rows per head,
 * GGUF row h·d + 2i + p holds HF row h·d + p·d/2 + i (p ∈ {0, 1}, i < d/2). `toGguf: false`
 * applies the inverse. `cols` is the row length (1 for a bias).
 */
export function permuteRopeRows(values: Float32Array, heads: number, cols: number, toGguf: boolean): Float32Array {
  const rows = values.length / cols;
  const perHead = rows / heads;
  if (!Number.isInteger(perHead) || perHead % 2 !== 0) {
    throw new EdgeforgeError("INVALID_CONFIG", `${rows} rows do not split into ${heads} heads of an even size`, { hint: "check num_attention_heads / num_key_value_heads in config.json" });
  }
  const half = perHead / 2;
  const out = new Float32Array(values.length);
  for (let head = 0; head < heads; head += 1) {
    for (let i = 0; i < half; i += 1) {
      for (let part = 0; part < 2; part += 1) {
        const ggufRow = head * perHead + 2 * i + part;
        const hfRow = head * perHead + part * half + i;
        const [from, to] = toGguf ? [hfRow, ggufRow] : [ggufRow, hfRow];
        out.set(values.subarray(from * cols, (from + 1) * cols), to * cols);
      }
    }
  }
  return out;
}
