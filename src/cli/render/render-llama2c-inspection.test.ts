import { describe, expect, it } from "vitest";
import { summarizeLlama2cHeader } from "../../formats/llama2c/inspect-llama2c.js";
import { parseLlama2cHeader } from "../../formats/llama2c/read-llama2c.js";
import { renderLlama2cInspection } from "./render-llama2c-inspection.js";

describe("renderLlama2cInspection", () => {
  it("names the layout, the hyper-parameters and the missing tokenizer", () => {
    const head = new Uint8Array(40);
    [8, 16, 1, 2, 1, 10, 4].forEach((value, i) => new DataView(head.buffer).setInt32(i * 4, value, true));
    const values = 10 * 8 + 8 + 8 * 8 + 4 * 8 * 2 + 8 * 8 + 8 + 16 * 8 * 3 + 8 + 4 * 2 * 2;
    const header = parseLlama2cHeader(head, 28 + values * 4, "tiny.bin");
    if (!header) throw new Error("not recognised");
    const text = renderLlama2cInspection(summarizeLlama2cHeader(header));
    expect(text).toContain("llama2.c checkpoint  tiny.bin");
    expect(text).toContain("legacy export");
    expect(text).toContain("classifier shared with the embedding");
    expect(text).toMatch(/trained sequence length\s+4/);
    expect(text).toContain("--vocab-from");
    expect(text).toContain("estimate");
  });
});
