/**
 * Bits per weight of the quantizations a fit assessment considers. Block formats have an exact
 * nominal size (Q8_0: 32 int8 + one fp16 scale = 34 bytes per 32 weights = 8.5 bpw); k-quant
 * mixes (_M) keep some tensors at higher precision, so their figure is the whole-model average
 * measured on Llama-3.1-8B / Llama-2-7B in llama.cpp's tools/quantize/README.md. All are estimates.
 */
export interface QuantizationFootprint {
  /** llama.cpp type name for GGUF, dtype-style suffix for ONNX ("fp16", "int8", "int4"), MLX bits. */
  name: string;
  bitsPerWeight: number;
  /** How the figure was obtained. */
  basis: string;
}

export const ggufFootprints: readonly QuantizationFootprint[] = [
  { name: "F16", bitsPerWeight: 16, basis: "2 bytes per weight" },
  { name: "Q8_0", bitsPerWeight: 8.5, basis: "nominal: 34 bytes per 32-weight block" },
  { name: "Q6_K", bitsPerWeight: 6.5625, basis: "nominal: 210 bytes per 256-weight super-block" },
  { name: "Q5_K_M", bitsPerWeight: 5.7, basis: "measured average, Llama-3.1-8B (llama.cpp quantize README)" },
  { name: "Q4_K_M", bitsPerWeight: 4.89, basis: "measured average, Llama-3.1-8B (llama.cpp quantize README)" },
  { name: "Q4_0", bitsPerWeight: 4.5, basis: "nominal: 18 bytes per 32-weight block" },
  { name: "Q3_K_M", bitsPerWeight: 3.91, basis: "measured average, Llama-2-7B (llama.cpp quantize README)" },
  { name: "Q2_K", bitsPerWeight: 3.35, basis: "measured average, Llama-2-7B (llama.cpp quantize README)" },
];

export const onnxFootprints: readonly QuantizationFootprint[] = [
  { name: "fp32", bitsPerWeight: 32, basis: "4 bytes per weight" },
  { name: "fp16", bitsPerWeight: 16, basis: "2 bytes per weight" },
  { name: "int8", bitsPerWeight: 8, basis: "1 byte per weight; per-tensor scales are negligible" },
  { name: "int4", bitsPerWeight: 4.5, basis: "MatMulNBits, block 32: 4 bits + one fp16 scale per block" },
];

export const mlxFootprints: readonly QuantizationFootprint[] = [
  { name: "fp16", bitsPerWeight: 16, basis: "2 bytes per weight" },
  { name: "8bit", bitsPerWeight: 8.5, basis: "group 64: 8 bits + fp16 scale and bias per group" },
  { name: "4bit", bitsPerWeight: 4.5, basis: "group 64: 4 bits + fp16 scale and bias per group" },
];
