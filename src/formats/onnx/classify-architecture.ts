export type OnnxArchitecture = "transformer-encoder" | "transformer-decoder" | "cnn" | "rnn-lstm" | "other";

export interface ArchitectureEvidence {
  /** Node count per op (domain-qualified outside the default domain), subgraphs included. */
  ops: ReadonlyMap<string, number>;
  /** Floating-point constant weight elements per consuming op (from the quantizable inventory). */
  weightElementsByOp: ReadonlyMap<string, number>;
  attentionPatterns: number;
  inputNames: readonly string[];
  outputNames: readonly string[];
}

export interface ArchitectureClass {
  architecture: OnnxArchitecture;
  /** The counts and patterns that decided it, in words. */
  evidence: string[];
}

const recurrentOps = ["LSTM", "GRU", "RNN"];
const convOps = ["Conv", "ConvTranspose"];
const denseOps = ["MatMul", "Gemm", "com.microsoft.Attention", "com.microsoft.MultiHeadAttention", "com.microsoft.GroupQueryAttention"];

function total(map: ReadonlyMap<string, number>, keys: readonly string[]): number {
  return keys.reduce((sum, key) => sum + (map.get(key) ?? 0), 0);
}

function share(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : "0%";
}

/**
 * Rules, in order: any recurrent op → rnn-lstm; self-attention with MatMul/Gemm holding at least as
 * many weights as convolutions → transformer (decoder when KV-cache inputs/outputs, causal masks or
 * GroupQueryAttention appear, else encoder); convolutions holding the most weights → cnn (attention
 * blocks, if any, are named in the evidence); anything else → other.
 */
export function classifyOnnxArchitecture(facts: ArchitectureEvidence): ArchitectureClass {
  const evidence: string[] = [];
  const recurrent = total(facts.ops, recurrentOps);
  const convNodes = total(facts.ops, convOps);
  const convWeights = total(facts.weightElementsByOp, convOps);
  const denseWeights = total(facts.weightElementsByOp, denseOps);
  const allWeights = [...facts.weightElementsByOp.values()].reduce((a, b) => a + b, 0);
  const describeWeights = () =>
    `Conv/ConvTranspose hold ${share(convWeights, allWeights)} of weight elements, MatMul/Gemm/attention ${share(denseWeights, allWeights)}`;

  if (recurrent > 0) {
    const named = recurrentOps.filter((op) => facts.ops.has(op)).map((op) => `${facts.ops.get(op)} ${op}`).join(", ");
    evidence.push(`${named} node(s) (subgraphs included)`);
    if (convNodes > 0) evidence.push(`also ${convNodes} Conv node(s) as a front end; ${describeWeights()}`);
    return { architecture: "rnn-lstm", evidence };
  }
  if (facts.attentionPatterns > 0) {
    evidence.push(`${facts.attentionPatterns} self-attention pattern(s) (MatMul → Softmax → MatMul over activations, or fused attention ops)`);
  }
  if (facts.attentionPatterns > 0 && denseWeights >= convWeights) {
    evidence.push(describeWeights());
    const decoderSigns = [
      ...facts.inputNames.filter((name) => /past|cache/i.test(name)).slice(0, 1).map((name) => `KV-cache input "${name}"`),
      ...facts.outputNames.filter((name) => /present/i.test(name)).slice(0, 1).map((name) => `KV-cache output "${name}"`),
      ...["Trilu", "com.microsoft.GroupQueryAttention"].filter((op) => facts.ops.has(op)).map((op) => `${op} (causal attention)`),
    ];
    if (decoderSigns.length > 0) {
      evidence.push(`decoder signs: ${decoderSigns.join(", ")}`);
      return { architecture: "transformer-decoder", evidence };
    }
    evidence.push("no KV-cache inputs/outputs or causal-mask ops: encoder");
    return { architecture: "transformer-encoder", evidence };
  }
  if (convNodes > 0 && convWeights >= denseWeights) {
    evidence.push(`${convNodes} Conv/ConvTranspose node(s); ${describeWeights()}`);
    if (facts.attentionPatterns > 0) evidence.push("convolutions hold most weights, so the attention blocks are a neck/head on a CNN");
    return { architecture: "cnn", evidence };
  }
  evidence.push(`no recurrent ops, no convolution-dominated weights, no self-attention; ${describeWeights()}`);
  return { architecture: "other", evidence };
}
