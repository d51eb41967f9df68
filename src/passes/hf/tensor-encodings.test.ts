import { describe, expect, it } from "vitest";
import { float16BitsToFloat32 } from "../../kernels/float16.js";
import { encodeBfloat16 } from "../../kernels/bfloat16.js";
import { decodeFloats, encodeQ8_0 } from "./tensor-encodings.js";

describe("Q8_0 blocks", () => {
  it("stores d = max|x|/127 as float16 and q = round(x/d), halves away from zero", () => {
    const values = new Float32Array(32);
    values[0] = 127;
    values[1] = -63.5;
    values[2] = 0.5;
    values[3] = -0.49;
    const { bytes } = encodeQ8_0(values);
    const view = new DataView(bytes.buffer);
    expect(bytes.length).toBe(34);
    expect(float16BitsToFloat32(view.getUint16(0, true))).toBe(1);
    expect([view.getInt8(2), view.getInt8(3), view.getInt8(4), view.getInt8(5), view.getInt8(6)]).toEqual([127, -64, 1, 0, 0]);
  });

  it("writes an all-zero block with d = 0", () => {
    const { bytes } = encodeQ8_0(new Float32Array(64));
    expect(bytes.length).toBe(68);
    expect(bytes.every((byte) => byte === 0)).toBe(true);
  });
});

describe("bfloat16 and stored floats", () => {
  it("rounds to nearest even and keeps NaN a NaN", () => {
    const bits = encodeBfloat16(Float32Array.from([1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, Number.NaN, -2]));
    expect(Array.from(bits)).toEqual([0x3f80, 0x3f80, 0x3f82, bits[3], 0xc000]);
    expect((bits[3] as number) & 0x7f80).toBe(0x7f80);
    expect((bits[3] as number) & 0x7f).not.toBe(0);
  });

  it("decodes F32, F16 and BF16 bytes", () => {
    expect(Array.from(decodeFloats(new Uint8Array(Float32Array.from([1.5, -2]).buffer), "F32"))).toEqual([1.5, -2]);
    expect(Array.from(decodeFloats(new Uint8Array(Uint16Array.from([0x3c00, 0xc000]).buffer), "F16"))).toEqual([1, -2]);
    expect(Array.from(decodeFloats(new Uint8Array(Uint16Array.from([0x3f80, 0x4040]).buffer), "BF16"))).toEqual([1, 3]);
  });
});
