import type { HfLayoutTensor } from "../../src/passes/hf/export-gguf-as-hf.js";
import type { LlamaHyperparameters } from "../../src/passes/hf/llama-hyperparameters.js";

/**
 * A plain TypeScript forward pass of Hugging Face's LlamaForCausalLM (modeling_llama.py: RMSNorm,
 * rotate_half RoPE on the un-interleaved Q/K halves, causal softmax attention, SwiGLU), float32,
 * for tests only. It checks that an exported Hugging Face layout computes what llama.cpp computes
 * from the GGUF, and collects llama-imatrix-style statistics (Σ x² of every matmul's input columns).
 */
export interface ReferenceLlama {
  hp: LlamaHyperparameters;
  weights: Map<string, Float32Array>;
}

export async function loadReferenceLlama(hp: LlamaHyperparameters, tensors: HfLayoutTensor[]): Promise<ReferenceLlama> {
  const weights = new Map<string, Float32Array>();
  for (const tensor of tensors) weights.set(tensor.name, await tensor.values());
  return { hp, weights };
}

/** GGUF weight name → Σ x² per input column and the number of rows (tokens) seen. */
export type ImatrixSums = Map<string, { sums: Float64Array; count: number }>;

function weight(model: ReferenceLlama, name: string): Float32Array {
  const value = model.weights.get(name);
  if (!value) throw new Error(`missing ${name}`);
  return value;
}

function rmsNorm(x: Float32Array, gain: Float32Array, eps: number): Float32Array {
  let sum = 0;
  for (const value of x) sum += value * value;
  const scale = 1 / Math.sqrt(sum / x.length + eps);
  return x.map((value, i) => value * scale * (gain[i] as number));
}

/** y = W x for W [out, in] row-major. */
function matVec(w: Float32Array, x: Float32Array, out: number): Float32Array {
  const inSize = x.length;
  const y = new Float32Array(out);
  for (let row = 0; row < out; row += 1) {
    let sum = 0;
    const base = row * inSize;
    for (let col = 0; col < inSize; col += 1) sum += (w[base + col] as number) * (x[col] as number);
    y[row] = sum;
  }
  return y;
}

/** W x (+ b when the checkpoint has a bias, as Qwen2's q/k/v projections do). */
function project(model: ReferenceLlama, name: string, x: Float32Array, out: number): Float32Array {
  const y = matVec(weight(model, `${name}.weight`), x, out);
  const bias = model.weights.get(`${name}.bias`);
  if (bias) for (let i = 0; i < out; i += 1) y[i] = (y[i] as number) + (bias[i] as number);
  return y;
}

function collect(sums: ImatrixSums | undefined, name: string, x: Float32Array): void {
  if (!sums) return;
  let entry = sums.get(name);
  if (!entry) {
    entry = { sums: new Float64Array(x.length), count: 0 };
    sums.set(name, entry);
  }
  for (let i = 0; i < x.length; i += 1) entry.sums[i] = (entry.sums[i] as number) + (x[i] as number) ** 2;
  entry.count += 1;
}

function applyRope(vector: Float32Array, heads: number, headDim: number, position: number, theta: number): void {
  const half = headDim / 2;
  for (let head = 0; head < heads; head += 1) {
    for (let i = 0; i < half; i += 1) {
      const angle = position * theta ** (-(2 * i) / headDim);
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      const a = vector[head * headDim + i] as number;
      const b = vector[head * headDim + i + half] as number;
      vector[head * headDim + i] = a * cos - b * sin;
      vector[head * headDim + i + half] = b * cos + a * sin;
    }
  }
}

/** Logits [n × vocab] of `tokens` (skipped when `withLogits` is false), collecting imatrix sums when given. */
export function referenceForward(model: ReferenceLlama, tokens: Int32Array, options: { withLogits: boolean; imatrix?: ImatrixSums }): Float32Array {
  const { hp } = model;
  const d = hp.hiddenSize;
  const headDim = hp.headDim;
  const kvGroup = hp.headCount / hp.kvHeadCount;
  const embed = weight(model, "model.embed_tokens.weight");
  const states = Array.from(tokens, (token) => embed.slice(token * d, (token + 1) * d));
  for (let layer = 0; layer < hp.layerCount; layer += 1) {
    const p = `model.layers.${layer}.`;
    const keys: Float32Array[] = [];
    const values: Float32Array[] = [];
    const queries: Float32Array[] = [];
    for (const [position, h] of states.entries()) {
      const x = rmsNorm(h, weight(model, `${p}input_layernorm.weight`), hp.rmsNormEps);
      for (const part of ["attn_q", "attn_k", "attn_v"]) collect(options.imatrix, `blk.${layer}.${part}.weight`, x);
      const q = project(model, `${p}self_attn.q_proj`, x, hp.headCount * headDim);
      const k = project(model, `${p}self_attn.k_proj`, x, hp.kvHeadCount * headDim);
      applyRope(q, hp.headCount, headDim, position, hp.ropeTheta);
      applyRope(k, hp.kvHeadCount, headDim, position, hp.ropeTheta);
      queries.push(q);
      keys.push(k);
      values.push(project(model, `${p}self_attn.v_proj`, x, hp.kvHeadCount * headDim));
    }
    for (const [position, h] of states.entries()) {
      const attention = new Float32Array(hp.headCount * headDim);
      for (let head = 0; head < hp.headCount; head += 1) {
        const kvHead = Math.floor(head / kvGroup);
        const scores = new Float64Array(position + 1);
        let max = -Infinity;
        for (let t = 0; t <= position; t += 1) {
          let dot = 0;
          for (let i = 0; i < headDim; i += 1) dot += (queries[position]![head * headDim + i] as number) * (keys[t]![kvHead * headDim + i] as number);
          scores[t] = dot / Math.sqrt(headDim);
          max = Math.max(max, scores[t] as number);
        }
        let total = 0;
        for (let t = 0; t <= position; t += 1) total += scores[t] = Math.exp((scores[t] as number) - max);
        for (let t = 0; t <= position; t += 1) {
          const weightT = (scores[t] as number) / total;
          for (let i = 0; i < headDim; i += 1) attention[head * headDim + i] = (attention[head * headDim + i] as number) + weightT * (values[t]![kvHead * headDim + i] as number);
        }
      }
      collect(options.imatrix, `blk.${layer}.attn_output.weight`, attention);
      const o = matVec(weight(model, `${p}self_attn.o_proj.weight`), attention, d);
      for (let i = 0; i < d; i += 1) h[i] = (h[i] as number) + (o[i] as number);
      const x = rmsNorm(h, weight(model, `${p}post_attention_layernorm.weight`), hp.rmsNormEps);
      collect(options.imatrix, `blk.${layer}.ffn_gate.weight`, x);
      collect(options.imatrix, `blk.${layer}.ffn_up.weight`, x);
      const gate = matVec(weight(model, `${p}mlp.gate_proj.weight`), x, hp.feedForwardSize);
      const up = matVec(weight(model, `${p}mlp.up_proj.weight`), x, hp.feedForwardSize);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * (up[i] as number));
      collect(options.imatrix, `blk.${layer}.ffn_down.weight`, act);
      const down = matVec(weight(model, `${p}mlp.down_proj.weight`), act, d);
      for (let i = 0; i < d; i += 1) h[i] = (h[i] as number) + (down[i] as number);
    }
  }
  if (!options.withLogits) return new Float32Array(0);
  const head = model.weights.get("lm_head.weight") ?? weight(model, "model.embed_tokens.weight");
  const logits = new Float32Array(tokens.length * hp.vocabSize);
  for (const [position, h] of states.entries()) {
    logits.set(matVec(head, rmsNorm(h, weight(model, "model.norm.weight"), hp.rmsNormEps), hp.vocabSize), position * hp.vocabSize);
  }
  return logits;
}
