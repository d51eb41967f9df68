import { describe, expect, it } from "vitest";
import { ggmlBitsPerWeight, ggmlTensorBytes, ggmlTypeById, ggmlTypeCatalog, llamaFileTypeByName, llamaFileTypes } from "./ggml-types.js";

describe("ggml type catalog", () => {
  it("has unique ids that map back to their names, and is frozen", () => {
    const entries = Object.values(ggmlTypeCatalog);
    expect(new Set(entries.map((t) => t.id)).size).toBe(entries.length);
    for (const info of entries) expect(ggmlTypeById(info.id)).toBe(info);
    expect(ggmlTypeById(4)).toBeUndefined(); // Q4_2, removed from ggml
    expect(Object.isFrozen(ggmlTypeCatalog)).toBe(true);
    expect(Object.isFrozen(ggmlTypeCatalog.Q4_K)).toBe(true);
  });

  it("gives the bits per weight llama.cpp documents", () => {
    const expected: Record<string, number> = { F32: 32, F16: 16, BF16: 16, Q4_0: 4.5, Q4_1: 5, Q5_0: 5.5, Q8_0: 8.5, Q2_K: 2.625, Q3_K: 3.4375, Q4_K: 4.5, Q5_K: 5.5, Q6_K: 6.5625, IQ2_XXS: 2.0625, IQ4_XS: 4.25, TQ1_0: 1.6875, MXFP4: 4.25 };
    for (const [name, bits] of Object.entries(expected)) expect(ggmlBitsPerWeight(name as keyof typeof ggmlTypeCatalog), name).toBe(bits);
  });

  it("predicts the llama-quantize file sizes recorded in MODELS.md for the tiny-fortunes model", () => {
    // 30 matrices (5,505,024 weights, of which output.weight 1,048,576) and 9 F32 norm vectors (2,304 weights).
    const matrices = 5_505_024;
    const output = 1_048_576;
    const norms = ggmlTensorBytes("F32", 2_304) ?? 0;
    // The F16 file's 93,440-byte header plus general.quantization_version (44 bytes), padded to 32.
    const header = 93_504;
    const q8 = header + (ggmlTensorBytes("Q8_0", matrices) ?? 0) + norms;
    // Q4_0 keeps output.weight at Q6_K (llama.cpp's rule for the output tensor).
    const q4 = header + (ggmlTensorBytes("Q4_0", matrices - output) ?? 0) + (ggmlTensorBytes("Q6_K", output) ?? 0) + norms;
    expect(q8).toBe(5_951_808);
    expect(q4).toBe(3_469_632);
  });

  it("refuses element counts that are not whole blocks", () => {
    expect(ggmlTensorBytes("Q4_K", 255)).toBeUndefined();
    expect(ggmlTensorBytes("Q4_K", 512)).toBe(288);
  });

  it("names llama.cpp file types by id and by llama-quantize name", () => {
    expect(llamaFileTypes.get(15)).toEqual({ id: 15, name: "Q4_K_M", description: "Q4_K - Medium" });
    expect(llamaFileTypes.get(1)?.name).toBe("F16");
    expect(llamaFileTypeByName("q6_k")?.id).toBe(18);
    expect(llamaFileTypeByName("Q4_2")).toBeUndefined();
  });
});
