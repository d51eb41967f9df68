import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { float16BitsToFloat32 } from "../kernels/float16.js";
import { encodeNpy, parseNpy, readNpy, writeNpy } from "./npy.js";
import { makeTempDir } from "../../test/fixtures/temp-dir.js";

// Bytes written by numpy 2.4 (numpy.lib.format.write_array), base64-encoded.
const numpyFiles = {
  f32v1:
    "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPgAAAD8AAEA/AACAPwAAoD8=",
  i8be:
    "k05VTVBZAQB2AHsnZGVzY3InOiAnPmk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAf/////////+AAAARdlkuAA=",
  f8fortran:
    "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAAAAAAAAAAhAAAAAAAAA8D8AAAAAAAAQQAAAAAAAAABAAAAAAAAAFEA=",
  u1v2: "k05VTVBZAgB0AAAAeydkZXNjcic6ICd8dTEnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwgMiksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAgP/",
  f2v3: "k05VTVBZAwB0AAAAeydkZXNjcic6ICc8ZjInLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMywpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAOADA/3s=",
  bool: "k05VTVBZAQB2AHsnZGVzY3InOiAnfGIxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAE=",
  scalar:
    "k05VTVBZAQB2AHsnZGVzY3InOiAnPGk0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoHAAAA",
};
const bytesOf = (name: keyof typeof numpyFiles): Uint8Array => new Uint8Array(Buffer.from(numpyFiles[name], "base64"));

describe("parseNpy", () => {
  it("reads a version 1.0 float32 array as a view over the bytes", () => {
    const bytes = bytesOf("f32v1");
    const tensor = parseNpy(bytes);
    expect(tensor.dtype).toBe("float32");
    expect(tensor.dims).toEqual([2, 3]);
    expect(Array.from(tensor.data as Float32Array)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
    expect(tensor.data.buffer).toBe(bytes.buffer);
  });

  it("byte-swaps big-endian int64 into a copy", () => {
    const tensor = parseNpy(bytesOf("i8be"));
    expect(tensor.dtype).toBe("int64");
    expect(Array.from(tensor.data as BigInt64Array)).toEqual([1n, -2n, 300000000000n]);
  });

  it("reorders Fortran-ordered arrays into C order", () => {
    const tensor = parseNpy(bytesOf("f8fortran"));
    expect(tensor.dims).toEqual([2, 3]);
    expect(Array.from(tensor.data as Float64Array)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("reads version 2.0 and 3.0 headers, bool and 0-d arrays", () => {
    expect(Array.from(parseNpy(bytesOf("u1v2")).data as Uint8Array)).toEqual([1, 2, 3, 255]);
    const half = parseNpy(bytesOf("f2v3"));
    expect(half.dtype).toBe("float16");
    expect(Array.from(half.data as Uint16Array).map(float16BitsToFloat32)).toEqual([0.5, -2, 65504]);
    const flags = parseNpy(bytesOf("bool"));
    expect(flags.dtype).toBe("bool");
    expect(Array.from(flags.data as Uint8Array)).toEqual([1, 0, 1]);
    const scalar = parseNpy(bytesOf("scalar"));
    expect(scalar.dims).toEqual([]);
    expect(Array.from(scalar.data as Int32Array)).toEqual([7]);
  });

  it("copies when the data is not aligned for its element type", () => {
    const original = bytesOf("f32v1");
    const shifted = new Uint8Array(original.length + 1);
    shifted.set(original, 1);
    const tensor = parseNpy(shifted.subarray(1));
    expect(Array.from(tensor.data as Float32Array)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
  });

  it("rejects a wrong magic, truncated data and unsupported element types with codes", () => {
    expect(() => parseNpy(new Uint8Array(20))).toThrow(expect.objectContaining({ code: "DATASET_INVALID" }));
    const truncated = bytesOf("f32v1").subarray(0, 130);
    expect(() => parseNpy(truncated)).toThrow(expect.objectContaining({ code: "TRUNCATED_FILE" }));
    const complex = encodeNpy({ dtype: "float32", dims: [1], data: new Float32Array(1) });
    const text = Buffer.from(complex).toString("latin1").replace("<f4", "<c8");
    expect(() => parseNpy(new Uint8Array(Buffer.from(text, "latin1")))).toThrow(expect.objectContaining({ code: "UNSUPPORTED_FEATURE" }));
  });
});

describe("encodeNpy", () => {
  it("writes the same bytes numpy writes", () => {
    const tensor = parseNpy(bytesOf("f32v1"));
    expect(Buffer.from(encodeNpy(tensor)).equals(Buffer.from(bytesOf("f32v1")))).toBe(true);
    expect(Buffer.from(encodeNpy(parseNpy(bytesOf("bool")))).equals(Buffer.from(bytesOf("bool")))).toBe(true);
  });

  const dir = makeTempDir("npy-");
  afterAll(async () => rm(await dir, { recursive: true, force: true }));

  it("round-trips through a file for every integer width", async () => {
    const path = join(await dir, "ids.npy");
    const ids = { dtype: "int64" as const, dims: [1, 3], data: new BigInt64Array([5n, -1n, 9007199254740993n]) };
    await writeNpy(path, ids);
    const back = await readNpy(path);
    expect(back.dims).toEqual([1, 3]);
    expect(Array.from(back.data as BigInt64Array)).toEqual([5n, -1n, 9007199254740993n]);
    expect((await readFile(path)).length % 64).toBe((3 * 8) % 64);
  });
});
