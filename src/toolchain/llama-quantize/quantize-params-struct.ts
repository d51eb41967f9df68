import type * as Koffi from "koffi";

/**
 * `struct llama_model_quantize_params` and the arrays it points to, field for field as in
 * include/llama.h of the llama.cpp build node-llama-cpp 3.22.1 ships (its gitRelease.bundle,
 * release v0.5.0). Enums are C `int`. If llama.cpp adds, removes or reorders a field, the
 * layout check and the defaults check below fail (in CI through the unit test, at run time
 * before any file is written).
 */
export const quantizeParamsFields = {
  nthread: "int32_t",
  ftype: "int",
  output_tensor_type: "int",
  token_embedding_type: "int",
  allow_requantize: "bool",
  quantize_output_tensor: "bool",
  only_copy: "bool",
  pure: "bool",
  keep_split: "bool",
  dry_run: "bool",
  imatrix: "void *",
  kv_overrides: "void *",
  tt_overrides: "void *",
  prune_layers: "void *",
  max_buf_size: "size_t",
} as const;

/** The C layout on 64-bit platforms (LP64 / LLP64): what koffi must compute from the fields above. */
export const expectedQuantizeParamsLayout = {
  sizeBytes: 64,
  offsets: {
    nthread: 0,
    ftype: 4,
    output_tensor_type: 8,
    token_embedding_type: 12,
    allow_requantize: 16,
    quantize_output_tensor: 17,
    only_copy: 18,
    pure: 19,
    keep_split: 20,
    dry_run: 21,
    imatrix: 24,
    kv_overrides: 32,
    tt_overrides: 40,
    prune_layers: 48,
    max_buf_size: 56,
  },
} as const;

/** GGML_TYPE_COUNT in ggml.h: "no override" for output/token-embedding types and the tt_overrides terminator. */
export const ggmlTypeCount = 43;
/** LLAMA_QUANT_MAX_BUF_SIZE in llama-quant.cpp. */
const defaultMaxBufBytes = 8 * 1024 ** 3;

/** What llama_model_quantize_default_params() returns (llama-quant.cpp). */
export const expectedQuantizeDefaults = {
  nthread: 0,
  ftype: 7,
  output_tensor_type: ggmlTypeCount,
  token_embedding_type: ggmlTypeCount,
  allow_requantize: false,
  quantize_output_tensor: true,
  only_copy: false,
  pure: false,
  keep_split: false,
  dry_run: false,
  imatrix: null,
  kv_overrides: null,
  tt_overrides: null,
  prune_layers: null,
  max_buf_size: defaultMaxBufBytes,
} as const;

export const expectedKvOverrideLayout = { sizeBytes: 264, keyOffset: 4, valueOffset: 136 } as const;

/** llama_model_kv_override_type. */
export const kvOverrideTags = { int: 0, float: 1, bool: 2, str: 3 } as const;

export interface QuantizeStructs {
  params: Koffi.TypeObject;
  /** struct llama_model_imatrix_data { const char *name; const float *data; size_t size; } */
  imatrixEntry: Koffi.TypeObject;
  /** struct llama_model_tensor_override { const char *pattern; enum ggml_type type; } */
  tensorOverride: Koffi.TypeObject;
  /** struct llama_model_kv_override { tag; char key[128]; union { int64 i64; double f64; bool b; char str[128]; } } */
  kvOverride: Koffi.TypeObject;
  /** The callback type of llama_log_set (ggml_log_callback). */
  logCallback: Koffi.TypeObject;
}

/** Koffi type names are global per process; defining once keeps repeated loads cheap and legal. */
let defined: QuantizeStructs | undefined;

export function defineQuantizeStructs(koffi: typeof Koffi): QuantizeStructs {
  defined ??= {
    params: koffi.struct("edgeforge_llama_model_quantize_params", { ...quantizeParamsFields }),
    imatrixEntry: koffi.struct("edgeforge_llama_model_imatrix_data", { name: "void *", data: "void *", size: "size_t" }),
    tensorOverride: koffi.struct("edgeforge_llama_model_tensor_override", { pattern: "void *", type: "int" }),
    kvOverride: koffi.struct("edgeforge_llama_model_kv_override", {
      tag: "int",
      key: koffi.array("uint8_t", 128, "Typed"),
      // The union holds an int64/double, so it starts 8-aligned (offset 136, sizeof 264).
      value: [8, koffi.array("uint8_t", 128, "Typed")],
    }),
    logCallback: koffi.proto("void edgeforge_ggml_log_callback(int level, const char *text, void *user_data)"),
  };
  return defined;
}

export interface StructLayout {
  sizeBytes: number;
  offsets: Record<string, number>;
}

export function quantizeParamsLayout(koffi: typeof Koffi, structs: QuantizeStructs): StructLayout {
  const offsets: Record<string, number> = {};
  for (const field of Object.keys(quantizeParamsFields)) offsets[field] = koffi.offsetof(structs.params, field);
  return { sizeBytes: koffi.sizeof(structs.params), offsets };
}

/** Field names whose layout or default differs from what this code was written against. */
export function describeQuantizeParamsMismatch(layout: StructLayout, defaults: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (layout.sizeBytes !== expectedQuantizeParamsLayout.sizeBytes) {
    problems.push(`sizeof ${layout.sizeBytes} (expected ${expectedQuantizeParamsLayout.sizeBytes})`);
  }
  for (const [field, offset] of Object.entries(expectedQuantizeParamsLayout.offsets)) {
    if (layout.offsets[field] !== offset) problems.push(`${field} at offset ${layout.offsets[field]} (expected ${offset})`);
  }
  for (const [field, expected] of Object.entries(expectedQuantizeDefaults)) {
    const actual = defaults[field];
    const same = expected === null ? actual === null || actual === undefined : Number(actual) === Number(expected);
    if (!same) problems.push(`default ${field} = ${String(actual)} (expected ${String(expected)})`);
  }
  return problems;
}
