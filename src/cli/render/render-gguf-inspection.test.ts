import { describe, expect, it } from "vitest";
import { inspectGguf } from "../../formats/gguf/inspect-gguf.js";
import { renderGgufInspection } from "./render-gguf-inspection.js";
import { sharedModels } from "../../../test/fixtures/shared-models.js";

describe("renderGgufInspection", () => {
  it("renders the real GGUF with aligned type table, hyper-parameters and a labelled estimate", async () => {
    const text = renderGgufInspection(await inspectGguf(sharedModels.tinyLlamaF16));
    expect(text).toContain("parameters          5,507,328 (5.51 M) in 39 tensors");
    expect(text).toContain("file type           F16, id 1");
    expect(text).toMatch(/F16\s+30\s+5,505,024\s+10\.5 MiB\s+16\.00/);
    expect(text).toMatch(/KV heads\s+8/);
    expect(text).toMatch(/KV cache \(f16\)\s+1\.00 MiB/);
    expect(text).toContain("estimate at 256 tokens of context");
    expect(text).toMatch(/tokenizer\.ggml\.tokens\s+string\[4,096\]\s+\["<unk>", "<s>"/);
    expect(text).toContain("first 12 of 39 (--json lists all)");
    // Columns line up: every tensor row puts its type at the same column.
    const tensorRows = text.split("\n").filter((line) => /^ {4}(blk|token_embd|output)/.test(line));
    expect(new Set(tensorRows.map((line) => line.search(/ (F16|F32) /))).size).toBe(1);
  });

});
