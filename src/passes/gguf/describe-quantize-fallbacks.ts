import type { GgufTensorInfo } from "../../formats/gguf/read-gguf.js";

/** Row length a llama-quantize file type's main ggml type needs: 256 for k-quants and i-quants, 32 for the legacy block types, none for float types. */
export function requiredRowMultiple(method: string): number | undefined {
  const name = method.toUpperCase();
  if (/^(F32|F16|BF16|COPY)$/.test(name)) return undefined;
  if (/_K(_|$)/.test(name) || name.startsWith("IQ") || name.startsWith("TQ")) return 256;
  return 32;
}

export interface QuantizeFallbacks {
  tensorCount: number;
  note?: string;
}

/**
 * Which weight matrices could not take the requested type because their rows are not a multiple
 * of its block (llama.cpp then falls back to a smaller block type, or to F16), read from the
 * quantized file's own tensor types so the report says what was stored, never silently.
 */
export function describeQuantizeFallbacks(tensors: readonly GgufTensorInfo[], method: string): QuantizeFallbacks {
  const multiple = requiredRowMultiple(method);
  if (multiple === undefined) return { tensorCount: 0 };
  const matrices = tensors.filter((tensor) => tensor.dims.length >= 2 && (tensor.dims[1] as number) > 1);
  const misfits = matrices.filter((tensor) => (tensor.dims[0] as number) % multiple !== 0);
  if (misfits.length === 0) return { tensorCount: 0 };
  const widths = [...new Set(misfits.map((tensor) => tensor.dims[0] as number))].sort((a, b) => a - b);
  const stored = new Map<string, number>();
  for (const tensor of misfits) stored.set(tensor.type, (stored.get(tensor.type) ?? 0) + 1);
  const types = [...stored].map(([type, count]) => `${type} ×${count}`).join(", ");
  return {
    tensorCount: misfits.length,
    note: `${method} needs rows that are a multiple of ${multiple} values; ${misfits.length} of ${matrices.length} weight matrices have rows of ${widths.join(" or ")}, so llama.cpp stored them as ${types} instead (e.g. ${misfits[0]?.name})`,
  };
}
