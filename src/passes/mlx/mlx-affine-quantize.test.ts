import { describe, expect, it } from "vitest";
import { quantizeMlxAffine } from "./mlx-affine-quantize.js";

function unpack(word: number, bits: number): number[] {
  return Array.from({ length: 32 / bits }, (_, k) => Math.floor(word / 2 ** (k * bits)) % 2 ** bits);
}

describe("MLX affine quantization (mlx/backend/cpu/quantized.cpp)", () => {
  it("packs the first element into the lowest bits and snaps the edge so 0 is exact", () => {
    // |min| > |max|: scale = (2 − (−4))/15 = 0.4 → q0 = rint(−4 / 0.4) = −10 → scale = 0.4, bias = −4.
    const values = Float32Array.from([-4, 2, 0, -0.2, 1.2, -4, 2, 0.4, ...new Array<number>(24).fill(0)]);
    const { packed, scales, biases } = quantizeMlxAffine(values, 1, 32, 32, 4, "F32");
    expect(scales[0]).toBeCloseTo(0.4, 6);
    expect(biases[0]).toBe(-4);
    expect(unpack(packed[0] as number, 4)).toEqual([0, 15, 10, 10, 13, 0, 15, 11]);
    // Zero maps to q = 10 exactly: 0.4 · 10 − 4 = 0.
    expect(Math.fround((scales[0] as number) * 10 + (biases[0] as number))).toBeCloseTo(0, 6);
  });

  it("uses a negative scale anchored at the maximum when |max| ≥ |min|", () => {
    const values = Float32Array.from({ length: 32 }, (_, i) => (i % 2 === 0 ? 3 : -1));
    const { scales, biases, packed } = quantizeMlxAffine(values, 1, 32, 32, 8, "F32");
    expect(scales[0]).toBeLessThan(0);
    expect(biases[0]).toBe(3);
    const q = unpack(packed[0] as number, 8);
    expect(q[0]).toBe(0);
    expect(Math.abs((scales[0] as number) * (q[1] as number) + 3 - -1)).toBeLessThanOrEqual(Math.abs(scales[0] as number) / 2);
  });

  it("keeps a constant group exact, and rounds scales to float16 when asked", () => {
    const { scales, biases, packed } = quantizeMlxAffine(new Float32Array(64).fill(0.7), 2, 32, 32, 4, "F16");
    expect(Array.from(packed).every((word) => word === 0)).toBe(true);
    expect(biases[0]).toBe(0.7001953125);
    expect(Math.abs(scales[0] as number)).toBeLessThan(1e-3);
  });

  it("refuses shapes the group does not divide", () => {
    expect(() => quantizeMlxAffine(new Float32Array(48), 1, 48, 32, 4, "F16")).toThrow(/cannot quantize/);
  });
});
