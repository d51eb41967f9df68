import { describe, expect, it } from "vitest";
import { parseNpyFloat32 } from "./parse-npy.js";

/** A version-1 .npy as NumPy and MLX write it: magic, version, header padded with spaces to a 64-byte boundary, then the data. */
function npy(values: number[], shape: string, descr = "<f4", fortran = "False"): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': (${shape}), }`;
  header += " ".repeat(64 - ((10 + header.length + 1) % 64)) + "\n";
  const data = new Uint8Array(new Float32Array(values).buffer);
  const bytes = new Uint8Array(10 + header.length + data.length);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  bytes.set(new TextEncoder().encode(header), 10);
  bytes.set(data, 10 + header.length);
  return bytes;
}

describe("parseNpyFloat32", () => {
  it("reads the values and shape MLX's save writes", () => {
    const parsed = parseNpyFloat32(npy([1.5, -2, 3.25, 4, 5, 6], "2, 3, "), "logits.npy");
    expect(parsed.shape).toEqual([2, 3]);
    expect([...parsed.values]).toEqual([1.5, -2, 3.25, 4, 5, 6]);
  });

  it("reads a scalar and an unaligned buffer (copied, same values)", () => {
    expect(parseNpyFloat32(npy([7], ""), "s.npy")).toMatchObject({ shape: [] });
    const aligned = npy([1, 2, 3], "3,");
    const shifted = new Uint8Array(aligned.length + 1).subarray(1);
    shifted.set(aligned);
    expect([...parseNpyFloat32(shifted, "x.npy").values]).toEqual([1, 2, 3]);
    const pooled = Buffer.concat([Buffer.from([0]), Buffer.from(aligned)]).subarray(1);
    expect([...parseNpyFloat32(pooled, "x.npy").values]).toEqual([1, 2, 3]);
  });

  it("reorders column-major (Fortran-order) data to row-major", () => {
    // [[1, 2, 3], [4, 5, 6]] stored column by column.
    expect([...parseNpyFloat32(npy([1, 4, 2, 5, 3, 6], "2, 3", "<f4", "True"), "t.npy").values]).toEqual([1, 2, 3, 4, 5, 6]);
    // [2, 2, 2]: element (i, j, k) at i + 2j + 4k.
    const columnMajor = [0, 1, 2, 3, 4, 5, 6, 7];
    const rowMajor = [0, 4, 2, 6, 1, 5, 3, 7];
    expect([...parseNpyFloat32(npy(columnMajor, "2, 2, 2", "<f4", "True"), "c.npy").values]).toEqual(rowMajor);
    // One dimension above 1: the same bytes either way.
    expect([...parseNpyFloat32(npy([1, 2, 3], "1, 3", "<f4", "True"), "v.npy").values]).toEqual([1, 2, 3]);
  });

  it("refuses what it does not read, with a typed error", () => {
    expect(() => parseNpyFloat32(new Uint8Array(20), "x.npy")).toThrow(/no .npy magic/);
    expect(() => parseNpyFloat32(npy([1, 2], "2,", "<f8"), "x.npy")).toThrow(/dtype <f8/);
    expect(() => parseNpyFloat32(npy([1, 2], "3,"), "x.npy")).toThrow(/8 data bytes for 3/);
  });
});
