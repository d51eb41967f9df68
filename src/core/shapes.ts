import { EdgeforgeError } from "./errors.js";

export type ShapeOverrides = Record<string, number[]>;

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
    overrides[name] = dims.split(/x/i).map(Number);
  }
  return overrides;
}
