/** A dimension: a number, a symbolic name, or unknown. */
export type Dim = number | string | null;

/** What is known about a value: its dims (undefined: unknown rank) and, for small constant tensors, its values (shape arithmetic). */
export interface ValueFacts {
  dims?: Dim[];
  values?: number[];
}

export type FactLookup = (name: string) => ValueFacts | undefined;

/** Values are only tracked for tensors this small: enough for shape arithmetic, never weights. */
export const maxTrackedValues = 64;

export function isNumericDims(dims: readonly Dim[] | undefined): dims is number[] {
  return dims !== undefined && dims.every((d) => typeof d === "number");
}

export function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Normalise a possibly negative axis; undefined when out of range. */
export function normalizeAxis(axis: number, rank: number): number | undefined {
  const a = axis < 0 ? axis + rank : axis;
  return a >= 0 && a < rank ? a : undefined;
}

/** Numpy broadcasting over known-rank dims; conflicting or unknown positions become null. */
export function broadcastDims(shapes: readonly Dim[][]): Dim[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: Dim = 1;
    for (const shape of shapes) {
      const d = shape[shape.length - rank + i] ?? 1;
      if (d === 1) continue;
      if (dim === 1) dim = d;
      else if (d !== dim) dim = null;
    }
    out.push(dim);
  }
  return out;
}
