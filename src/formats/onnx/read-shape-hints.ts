import { maxShapeElements, type ShapeOverrides } from "../../core/shapes.js";
import type { OnnxValueSpec } from "./inspect-onnx.js";

export interface ShapeHints {
  /** Sizes the model's own metadata states, in `--shape` form (input name → dims, dimension name → [n]). */
  shapes: ShapeOverrides;
  /** One line per hint used, e.g. `metadata_props "sequence" = "512"`. */
  sources: string[];
}

function parseDims(value: string): number[] | undefined {
  const text = value.trim().replace(/^\[|\]$/g, "");
  if (!/^\d+(\s*[x,]\s*\d+)*$/i.test(text)) return undefined;
  const dims = text.split(/\s*[x,]\s*/i).map(Number);
  const elements = dims.reduce((product, dim) => product * dim, 1);
  return dims.every((dim) => dim >= 1) && elements <= maxShapeElements ? dims : undefined;
}

/**
 * Sizes of dynamic input dimensions that the model states itself: ONNX `metadata_props` entries
 * whose key is a symbolic dimension (`sequence` = `512`) or an input (`x` = `1x3x48x320`,
 * `1,3,48,320` or `[1, 3, 48, 320]`), the same names `--shape` takes. Entries that do not fit the
 * declared input (rank, fixed dimensions) are ignored; only dynamic dimensions are filled.
 */
export function readShapeHints(metadata: Readonly<Record<string, string>>, inputs: readonly OnnxValueSpec[]): ShapeHints {
  const shapes: ShapeOverrides = {};
  const sources: string[] = [];
  const dynamic = (dim: number | string | null) => typeof dim !== "number" || dim < 0;
  const symbols = new Set(inputs.flatMap((input) => (input.shape ?? []).filter((dim): dim is string => typeof dim === "string")));
  for (const input of inputs) {
    const value = metadata[input.name];
    const dims = value === undefined ? undefined : parseDims(value);
    const declared = input.shape;
    if (!dims || !declared || !declared.some(dynamic)) continue;
    const fits = dims.length === declared.length && declared.every((dim, axis) => dynamic(dim) || dim === dims[axis]);
    if (!fits) continue;
    shapes[input.name] = dims;
    sources.push(`metadata_props "${input.name}" = "${value}"`);
  }
  for (const symbol of symbols) {
    const value = metadata[symbol];
    const dims = value === undefined ? undefined : parseDims(value);
    if (dims?.length !== 1) continue;
    shapes[symbol] = dims;
    sources.push(`metadata_props "${symbol}" = "${value}"`);
  }
  return { shapes, sources };
}
