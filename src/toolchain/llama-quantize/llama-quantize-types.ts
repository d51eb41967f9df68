/**
 * The file types llama-quantize offers (tools/quantize/quantize.cpp `QUANT_OPTIONS` at the
 * llama.cpp release node-llama-cpp 3.22.1 bundles), with llama.cpp's own size/quality note and
 * whether the engine refuses the type without an importance matrix. `imatrix: "required"` is
 * the engine's rule (llama-quant.cpp `tensor_requires_imatrix`: IQ1/IQ2/IQ3_XXS tensors, which
 * IQ3_XS mixes in, and Q2_K in a Q2_K_S file); an integration test quantizes every type without
 * one and checks exactly these fail.
 */
export interface LlamaQuantizeType {
  /** llama-quantize spelling, e.g. "Q4_K_M". */
  readonly name: string;
  /** `enum llama_ftype` value passed to llama_model_quantize. */
  readonly ftype: number;
  /** llama.cpp's note on size and quality cost (its figures are for Llama-3-8B / Mistral-7B). */
  readonly note: string;
  readonly imatrix: "required" | "optional";
}

const table: ReadonlyArray<readonly [string, number, string, boolean?]> = [
  ["Q8_0", 7, "7.96G, +0.0026 ppl @ Llama-3-8B"],
  ["Q6_K", 18, "6.14G, +0.0217 ppl @ Llama-3-8B"],
  ["Q5_K_M", 17, "5.33G, +0.0569 ppl @ Llama-3-8B"],
  ["Q5_K_S", 16, "5.21G, +0.1049 ppl @ Llama-3-8B"],
  ["Q5_1", 9, "5.65G, +0.1062 ppl @ Llama-3-8B"],
  ["Q5_0", 8, "5.21G, +0.1316 ppl @ Llama-3-8B"],
  ["Q4_K_M", 15, "4.58G, +0.1754 ppl @ Llama-3-8B"],
  ["Q4_K_S", 14, "4.37G, +0.2689 ppl @ Llama-3-8B"],
  ["Q4_1", 3, "4.78G, +0.4511 ppl @ Llama-3-8B"],
  ["Q4_0", 2, "4.34G, +0.4685 ppl @ Llama-3-8B"],
  ["IQ4_NL", 25, "4.50 bpw non-linear quantization"],
  ["IQ4_XS", 30, "4.25 bpw non-linear quantization"],
  ["Q3_K_L", 13, "4.03G, +0.5562 ppl @ Llama-3-8B"],
  ["Q3_K_M", 12, "3.74G, +0.6569 ppl @ Llama-3-8B"],
  ["Q3_K_S", 11, "3.41G, +1.6321 ppl @ Llama-3-8B"],
  ["IQ3_M", 27, "3.66 bpw quantization mix"],
  ["IQ3_S", 26, "3.44 bpw quantization"],
  ["IQ3_XS", 22, "3.3 bpw quantization", true],
  ["IQ3_XXS", 23, "3.06 bpw quantization", true],
  ["Q2_K", 10, "2.96G, +3.5199 ppl @ Llama-3-8B"],
  ["Q2_K_S", 21, "2.96G, +3.1836 ppl @ Llama-3-8B", true],
  ["IQ2_M", 29, "2.7 bpw quantization", true],
  ["IQ2_S", 28, "2.5 bpw quantization", true],
  ["IQ2_XS", 20, "2.31 bpw quantization", true],
  ["IQ2_XXS", 19, "2.06 bpw quantization", true],
  ["IQ1_M", 31, "1.75 bpw quantization", true],
  ["IQ1_S", 24, "1.56 bpw quantization", true],
  ["TQ2_0", 37, "2.06 bpw ternarization"],
  ["TQ1_0", 36, "1.69 bpw ternarization"],
  ["Q2_0", 41, "2.25 bpw quantization (group 64)"],
  ["Q1_0", 40, "1.125 bpw quantization"],
  ["MXFP4_MOE", 38, "MXFP4 MoE"],
  ["BF16", 32, "14.00G, -0.0050 ppl @ Mistral-7B"],
  ["F16", 1, "14.00G, +0.0020 ppl @ Mistral-7B"],
  ["F32", 0, "26.00G @ 7B"],
];

export const llamaQuantizeTypes: ReadonlyArray<LlamaQuantizeType> = Object.freeze(
  table.map(([name, ftype, note, needsImatrix]) => Object.freeze({ name, ftype, note, imatrix: needsImatrix ? "required" : "optional" })),
);

export const llamaQuantizeTypeNames: readonly string[] = llamaQuantizeTypes.map((type) => type.name);

/** llama-quantize's aliases. */
const aliases: Readonly<Record<string, string>> = { Q3_K: "Q3_K_M", Q4_K: "Q4_K_M", Q5_K: "Q5_K_M" };

/** Case-insensitive lookup accepting llama-quantize's aliases (Q4_K → Q4_K_M). */
export function findLlamaQuantizeType(name: string): LlamaQuantizeType | undefined {
  const upper = name.trim().toUpperCase();
  const canonical = aliases[upper] ?? upper;
  return llamaQuantizeTypes.find((type) => type.name === canonical);
}
