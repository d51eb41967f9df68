import { describe, expect, it } from "vitest";
import { llamaFileTypeByName } from "../../formats/gguf/ggml-types.js";
import { findLlamaQuantizeType, llamaQuantizeTypes } from "./llama-quantize-types.js";

describe("llama-quantize types", () => {
  it("use the llama_ftype ids of the GGUF file-type catalog", () => {
    for (const type of llamaQuantizeTypes) expect(llamaFileTypeByName(type.name)?.id, type.name).toBe(type.ftype);
  });

  it("accept any case and llama-quantize's aliases", () => {
    expect(findLlamaQuantizeType("q4_k_m")?.ftype).toBe(15);
    expect(findLlamaQuantizeType("Q4_K")?.name).toBe("Q4_K_M");
    expect(findLlamaQuantizeType("Q3_K")?.name).toBe("Q3_K_M");
    expect(findLlamaQuantizeType("Q7_K")).toBeUndefined();
  });
});
