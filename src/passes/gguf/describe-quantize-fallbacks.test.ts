import { describe, expect, it } from "vitest";
import type { GgufTensorInfo } from "../../formats/gguf/read-gguf.js";
import { describeQuantizeFallbacks, requiredRowMultiple } from "./describe-quantize-fallbacks.js";

const tensor = (name: string, dims: number[], type: string): GgufTensorInfo => ({ name, dims, type, elementCount: dims.reduce((a, b) => a * b, 1), sizeBytes: 0, offset: 0, typeId: 0 }) as unknown as GgufTensorInfo;

describe("describeQuantizeFallbacks", () => {
  it("knows each file type's block: 256 for k/i-quants, 32 for legacy blocks, none for floats", () => {
    expect(requiredRowMultiple("Q4_K_M")).toBe(256);
    expect(requiredRowMultiple("Q6_K")).toBe(256);
    expect(requiredRowMultiple("IQ4_NL")).toBe(256);
    expect(requiredRowMultiple("Q8_0")).toBe(32);
    expect(requiredRowMultiple("F16")).toBeUndefined();
  });

  it("names the matrices whose rows do not fit and what llama.cpp stored instead; vectors are ignored", () => {
    const tensors = [
      tensor("blk.0.attn_q.weight", [64, 64], "Q5_0"),
      tensor("blk.0.ffn_down.weight", [172, 64], "F16"),
      tensor("blk.0.ffn_up.weight", [256, 64], "Q4_K"),
      tensor("blk.0.attn_norm.weight", [64], "F32"),
    ];
    const result = describeQuantizeFallbacks(tensors, "Q4_K_M");
    expect(result.tensorCount).toBe(2);
    expect(result.note).toBe("Q4_K_M needs rows that are a multiple of 256 values; 2 of 3 weight matrices have rows of 64 or 172, so llama.cpp stored them as Q5_0 ×1, F16 ×1 instead (e.g. blk.0.attn_q.weight)");
    expect(describeQuantizeFallbacks(tensors, "F16")).toEqual({ tensorCount: 0 });
  });
});
