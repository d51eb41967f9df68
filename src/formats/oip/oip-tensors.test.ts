import { describe, expect, it } from "vitest";
import { bfloat16BitsToFloat32, float32ToBfloat16Bits } from "../../kernels/bfloat16.js";
import { decodeBytesElements, encodeBytesElements, tensorBytes, tensorDataJson, tensorFromBinary, tensorFromJson } from "./oip-tensors.js";

describe("OIP tensor codec", () => {
  it("reads FP16 and BF16 given as JSON numbers and writes them back as numbers", () => {
    const half = tensorFromJson("h", "FP16", [3], [1.5, -2, 65504]);
    expect(Array.from(half.data as Uint16Array)).toEqual([0x3e00, 0xc000, 0x7bff]);
    expect(tensorDataJson(half)).toBe("1.5,-2,65504");
    const brain = tensorFromJson("b", "BF16", [2], [1, -0.5]);
    expect(Array.from(brain.data as Uint16Array)).toEqual([0x3f80, 0xbf00]);
    expect(tensorDataJson(brain)).toBe("1,-0.5");
    // Round to nearest even: 1 + 2^-8 is halfway between two bfloat16 values and rounds down to 1.
    expect(bfloat16BitsToFloat32(float32ToBfloat16Bits(1 + 2 ** -8))).toBe(1);
  });

  it("flattens nested data, keeps 64-bit integers exact and maps non-finite floats to null", () => {
    const nested = tensorFromJson("n", "INT64", [2, 2], [[1, 2], [3, -4]]);
    expect(Array.from(nested.data as BigInt64Array)).toEqual([1n, 2n, 3n, -4n]);
    expect(tensorDataJson({ dtype: "int64", dims: [1], data: BigInt64Array.of(2n ** 62n) })).toBe("4611686018427387904");
    expect(tensorDataJson({ dtype: "float32", dims: [2], data: Float32Array.of(Number.NaN, 1) })).toBe("null,1");
    expect(tensorDataJson(tensorFromJson("b", "BOOL", [2], [true, false]))).toBe("true,false");
  });

  it("rejects values outside the datatype and counts that do not match the shape", () => {
    expect(() => tensorFromJson("u", "UINT8", [1], [256])).toThrow(/integer in 0..255/);
    expect(() => tensorFromJson("i", "INT32", [1], [1.5])).toThrow(/integer/);
    expect(() => tensorFromJson("b", "BOOL", [1], [1])).toThrow(/boolean/);
    expect(() => tensorFromJson("f", "FP32", [2, 2], [1, 2, 3])).toThrow(/needs 4 elements/);
    expect(() => tensorFromJson("f", "FP32", [1], [[1, 2]])).toThrow(/more than the 1 elements/);
    expect(() => tensorFromBinary("f", "FP32", [2], new Uint8Array(7))).toThrow(/needs 8/);
  });

  it("round-trips binary tensors and BYTES elements", () => {
    const values = Float32Array.of(1, -2.5, 3);
    const tensor = tensorFromBinary("f", "FP32", [3], tensorBytes({ dtype: "float32", dims: [3], data: values }));
    expect(Array.from(tensor.data as Float32Array)).toEqual([1, -2.5, 3]);
    const encoded = encodeBytesElements([Buffer.from("ab"), Buffer.from("")]);
    expect(Array.from(encoded)).toEqual([2, 0, 0, 0, 97, 98, 0, 0, 0, 0]);
    expect(decodeBytesElements("s", encoded, 2).map((b) => Buffer.from(b).toString())).toEqual(["ab", ""]);
    expect(() => decodeBytesElements("s", encoded.subarray(0, 5), 2)).toThrow(/runs past/);
  });
});
