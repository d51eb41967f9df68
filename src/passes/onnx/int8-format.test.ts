import { describe, expect, it } from "vitest";
import { chooseInt8Format } from "./int8-format.js";

describe("chooseInt8Format", () => {
  it("U8S8 on x86 with VNNI, U8S8 with 7-bit weights without, S8S8 on ARM", () => {
    expect(chooseInt8Format("x64", ["avx2", "avx512f", "avx512_vnni"])).toMatchObject({ activationType: "uint8", reduceRange: false });
    expect(chooseInt8Format("x64", ["avx2", "avx_vnni"])).toMatchObject({ activationType: "uint8", reduceRange: false });
    expect(chooseInt8Format("x64", ["avx2", "fma"])).toMatchObject({ activationType: "uint8", reduceRange: true });
    expect(chooseInt8Format("arm64", ["neon", "dotprod"])).toMatchObject({ activationType: "int8", reduceRange: false });
  });
});
