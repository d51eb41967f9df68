/**
 * The ggml tensor types and llama.cpp file types, by the ids stored in GGUF files. Ids, block
 * sizes and block byte sizes checked against llama.cpp's ggml.h (`enum ggml_type`), gguf-py's
 * `GGML_QUANT_SIZES` (QK_K = 256) and llama.h (`enum llama_ftype`). Removed ids (4, 5, 31–33,
 * 36–38) are absent on purpose: llama.cpp refuses them in files too.
 */
export interface GgmlTypeInfo {
  readonly id: number;
  /** llama.cpp spelling, e.g. "Q4_K". */
  readonly name: string;
  /** Elements per block (1 for plain types). */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly blockBytes: number;
  readonly quantized: boolean;
}

const table = [
  ["F32", 0, 1, 4, false],
  ["F16", 1, 1, 2, false],
  ["Q4_0", 2, 32, 18, true],
  ["Q4_1", 3, 32, 20, true],
  ["Q5_0", 6, 32, 22, true],
  ["Q5_1", 7, 32, 24, true],
  ["Q8_0", 8, 32, 34, true],
  ["Q8_1", 9, 32, 36, true],
  ["Q2_K", 10, 256, 84, true],
  ["Q3_K", 11, 256, 110, true],
  ["Q4_K", 12, 256, 144, true],
  ["Q5_K", 13, 256, 176, true],
  ["Q6_K", 14, 256, 210, true],
  ["Q8_K", 15, 256, 292, true],
  ["IQ2_XXS", 16, 256, 66, true],
  ["IQ2_XS", 17, 256, 74, true],
  ["IQ3_XXS", 18, 256, 98, true],
  ["IQ1_S", 19, 256, 50, true],
  ["IQ4_NL", 20, 32, 18, true],
  ["IQ3_S", 21, 256, 110, true],
  ["IQ2_S", 22, 256, 82, true],
  ["IQ4_XS", 23, 256, 136, true],
  ["I8", 24, 1, 1, false],
  ["I16", 25, 1, 2, false],
  ["I32", 26, 1, 4, false],
  ["I64", 27, 1, 8, false],
  ["F64", 28, 1, 8, false],
  ["IQ1_M", 29, 256, 56, true],
  ["BF16", 30, 1, 2, false],
  ["TQ1_0", 34, 256, 54, true],
  ["TQ2_0", 35, 256, 66, true],
  ["MXFP4", 39, 32, 17, true],
  ["NVFP4", 40, 64, 36, true],
  ["Q1_0", 41, 128, 18, true],
  ["Q2_0", 42, 64, 18, true],
] as const;

export type GgmlTypeName = (typeof table)[number][0];

export const ggmlTypeCatalog: Readonly<Record<GgmlTypeName, GgmlTypeInfo>> = Object.freeze(
  Object.fromEntries(
    table.map(([name, id, blockSize, blockBytes, quantized]) => [name, Object.freeze({ id, name, blockSize, blockBytes, quantized })]),
  ) as Record<GgmlTypeName, GgmlTypeInfo>,
);

const typesById = new Map<number, GgmlTypeInfo>(Object.values(ggmlTypeCatalog).map((info) => [info.id, info]));

export function ggmlTypeById(id: number): GgmlTypeInfo | undefined {
  return typesById.get(id);
}

export function isGgmlTypeName(name: string): name is GgmlTypeName {
  return Object.hasOwn(ggmlTypeCatalog, name);
}

/** Storage cost per element, e.g. 4.5 for Q4_0 (18 bytes per 32 weights). */
export function ggmlBitsPerWeight(type: GgmlTypeName): number {
  const info = ggmlTypeCatalog[type];
  return (info.blockBytes * 8) / info.blockSize;
}

/**
 * Bytes of a tensor of `elementCount` elements, or undefined when the count is not a whole
 * number of blocks (such a tensor cannot exist in a valid file).
 */
export function ggmlTensorBytes(type: GgmlTypeName, elementCount: number): number | undefined {
  const info = ggmlTypeCatalog[type];
  if (elementCount % info.blockSize !== 0) return undefined;
  return (elementCount / info.blockSize) * info.blockBytes;
}

export interface LlamaFileTypeInfo {
  readonly id: number;
  /** The name llama-quantize accepts, e.g. "Q4_K_M". */
  readonly name: string;
  /** llama.cpp's own description (llama_model_ftype_name), e.g. "Q4_K - Medium". */
  readonly description: string;
}

const fileTypeTable: ReadonlyArray<readonly [number, string, string]> = [
  [0, "F32", "all F32"],
  [1, "F16", "F16"],
  [2, "Q4_0", "Q4_0"],
  [3, "Q4_1", "Q4_1"],
  [7, "Q8_0", "Q8_0"],
  [8, "Q5_0", "Q5_0"],
  [9, "Q5_1", "Q5_1"],
  [10, "Q2_K", "Q2_K - Medium"],
  [11, "Q3_K_S", "Q3_K - Small"],
  [12, "Q3_K_M", "Q3_K - Medium"],
  [13, "Q3_K_L", "Q3_K - Large"],
  [14, "Q4_K_S", "Q4_K - Small"],
  [15, "Q4_K_M", "Q4_K - Medium"],
  [16, "Q5_K_S", "Q5_K - Small"],
  [17, "Q5_K_M", "Q5_K - Medium"],
  [18, "Q6_K", "Q6_K"],
  [19, "IQ2_XXS", "IQ2_XXS - 2.0625 bpw"],
  [20, "IQ2_XS", "IQ2_XS - 2.3125 bpw"],
  [21, "Q2_K_S", "Q2_K - Small"],
  [22, "IQ3_XS", "IQ3_XS - 3.3 bpw"],
  [23, "IQ3_XXS", "IQ3_XXS - 3.0625 bpw"],
  [24, "IQ1_S", "IQ1_S - 1.5625 bpw"],
  [25, "IQ4_NL", "IQ4_NL - 4.5 bpw"],
  [26, "IQ3_S", "IQ3_S - 3.4375 bpw"],
  [27, "IQ3_M", "IQ3_S mix - 3.66 bpw"],
  [28, "IQ2_S", "IQ2_S - 2.5 bpw"],
  [29, "IQ2_M", "IQ2_M - 2.7 bpw"],
  [30, "IQ4_XS", "IQ4_XS - 4.25 bpw"],
  [31, "IQ1_M", "IQ1_M - 1.75 bpw"],
  [32, "BF16", "BF16"],
  [36, "TQ1_0", "TQ1_0 - 1.69 bpw ternary"],
  [37, "TQ2_0", "TQ2_0 - 2.06 bpw ternary"],
  [38, "MXFP4_MOE", "MXFP4 MoE"],
  [39, "NVFP4", "NVFP4"],
  [40, "Q1_0", "Q1_0"],
  [41, "Q2_0", "Q2_0"],
];

/** LLAMA_FTYPE_MOSTLY_* by id (the `general.file_type` metadata value). */
export const llamaFileTypes: ReadonlyMap<number, LlamaFileTypeInfo> = new Map(
  fileTypeTable.map(([id, name, description]) => [id, Object.freeze({ id, name, description })]),
);

export function llamaFileTypeByName(name: string): LlamaFileTypeInfo | undefined {
  const wanted = name.toUpperCase();
  for (const info of llamaFileTypes.values()) if (info.name === wanted) return info;
  return undefined;
}
