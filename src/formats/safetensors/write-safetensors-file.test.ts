import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { readSafetensorsHeader, readSafetensorsTensorData } from "./read-safetensors.js";
import { writeSafetensorsFile } from "./write-safetensors-file.js";
import { useTempDir } from "../../../test/fixtures/temp-dir.js";

const temp = useTempDir("edgeforge-st-");

describe("writeSafetensorsFile", () => {
  it("writes a file the reader accepts, with an 8-byte-aligned header and the tensors' bytes", async () => {
    const path = temp.join("a.safetensors");
    const weights = new Uint8Array(Float32Array.from([1, 2, 3, 4, 5, 6]).buffer);
    const packed = new Uint8Array(Uint32Array.from([0xdeadbeef]).buffer);
    await writeSafetensorsFile(path, [
      { name: "w", dtype: "F32", shape: [2, 3], data: weights },
      { name: "q", dtype: "U32", shape: [1, 1], data: async () => packed },
    ], { format: "mlx" });
    const header = await readSafetensorsHeader(path);
    expect(header.metadata).toEqual({ format: "mlx" });
    expect(header.headerSizeBytes % 8).toBe(0);
    expect(Array.from(await readSafetensorsTensorData(path, header, "w"))).toEqual(Array.from(weights));
    expect(Array.from(await readSafetensorsTensorData(path, header, "q"))).toEqual(Array.from(packed));
    expect((await readFile(path)).length).toBe(8 + header.headerSizeBytes + 28);
  });

  it("refuses data of the wrong size and leaves no file", async () => {
    const path = temp.join("b.safetensors");
    await expect(writeSafetensorsFile(path, [{ name: "w", dtype: "F16", shape: [4], data: new Uint8Array(6) }])).rejects.toThrow(/needs 8/);
    await expect(readFile(path)).rejects.toThrow();
  });
});
