import { describe, expect, it } from "vitest";
import { convertToFloat16, float16BitsToFloat32, float32ToFloat16Bits } from "./float16.js";

describe("float32 → float16", () => {
  it("encodes known values exactly", () => {
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(-2)).toBe(0xc000);
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(2 ** -24)).toBe(0x0001);
    expect(float32ToFloat16Bits(0)).toBe(0);
    expect(float32ToFloat16Bits(-0)).toBe(0x8000);
  });

  it("rounds half to even", () => {
    // float16 spacing is 2 between 2048 and 4096: 2049 ties to 2048, 2051 ties to 2052.
    expect(float16BitsToFloat32(float32ToFloat16Bits(2049))).toBe(2048);
    expect(float16BitsToFloat32(float32ToFloat16Bits(2051))).toBe(2052);
    expect(float16BitsToFloat32(float32ToFloat16Bits(2050.5))).toBe(2050);
  });

  it("clamps finite overflow to ±65504 and counts it; infinities and NaN pass through uncounted", () => {
    // 65519 rounds down to 65504 (not an overflow); 65520 rounds up past it and is clamped.
    const { bits, clampedCount, flushedCount } = convertToFloat16(Float32Array.of(1e6, -70000, 65520, Infinity, Number.NaN, 1e-9, 65519));
    expect(Array.from(bits.slice(0, 3), float16BitsToFloat32)).toEqual([65504, -65504, 65504]);
    expect(bits[3]).toBe(0x7c00);
    expect(Number.isNaN(float16BitsToFloat32(bits[4]!))).toBe(true);
    expect(bits[5]).toBe(0);
    expect(float16BitsToFloat32(bits[6]!)).toBe(65504);
    expect(clampedCount).toBe(3);
    expect(flushedCount).toBe(1);
  });

  it("round-trips every float16 bit pattern (NaNs stay NaN)", () => {
    const all = new Float32Array(65536);
    for (let b = 0; b < 65536; b++) all[b] = float16BitsToFloat32(b);
    const { bits } = convertToFloat16(all);
    const mismatches: number[] = [];
    for (let b = 0; b < 65536; b++) {
      const ok = Number.isNaN(all[b]!) ? Number.isNaN(float16BitsToFloat32(bits[b]!)) : bits[b] === b;
      if (!ok) mismatches.push(b);
    }
    expect(mismatches).toEqual([]);
  });
});
