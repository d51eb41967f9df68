import { EdgeforgeError } from "./errors.js";

export type ShapeOverrides = Record<string, number[]>;

/** Shapes as `--shape` spells them: `x=1x3x48x320 sr=scalar`. */
export function formatShapes(shapes: ShapeOverrides): string {
  return Object.entries(shapes)
    .map(([name, dims]) => `${name}=${dims.join("x") || "scalar"}`)
    .join(" ");
}

/**
 * The largest input a shape override may describe: 2^31 elements (8 GiB of float32), beyond any
 * edge device's memory and onnxruntime's int32 index range for many kernels.
 */
export const maxShapeElements = 2 ** 31;

/** Parse `name=1x3x48x320` flags into a map; names may contain '=' only before the last one. */
export function parseShapeOverrides(specs: readonly string[]): ShapeOverrides {
  const overrides: ShapeOverrides = {};
  for (const spec of specs) {
    const split = spec.lastIndexOf("=");
    const name = spec.slice(0, split).trim();
    const dims = spec.slice(split + 1).trim();
    if (split <= 0 || !/^\d+(x\d+)*$/i.test(dims)) {
      throw new EdgeforgeError("INVALID_SHAPE", `cannot parse shape "${spec}"`, {
        hint: "write NAME=DxDxD, e.g. --shape x=1x3x48x320",
        details: { spec },
      });
    }
    const shape = dims.split(/x/i).map(Number);
    const elements = shape.reduce((product, dim) => product * dim, 1);
    if (shape.some((dim) => dim < 1)) {
      throw new EdgeforgeError("INVALID_SHAPE", `shape "${spec}" has a zero dimension`, { hint: "every dimension is at least 1, e.g. --shape x=1x3x48x320", details: { spec } });
    }
    if (elements > maxShapeElements) {
      throw new EdgeforgeError("INVALID_SHAPE", `shape "${spec}" describes ${elements.toExponential(2)} elements per input, more than the limit of ${maxShapeElements} (2^31)`, {
        hint: "check the numbers: a real input is e.g. --shape x=1x3x48x320",
        details: { spec, elements, maxElements: maxShapeElements },
      });
    }
    overrides[name] = shape;
  }
  return overrides;
}
