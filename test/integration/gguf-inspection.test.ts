import { describe, expect, it } from "vitest";
import { inspectGguf } from "../../src/formats/gguf/inspect-gguf.js";
import { readGgufHeader } from "../../src/formats/gguf/read-gguf.js";
import { sharedModels } from "../fixtures/shared-models.js";

const modelPath = sharedModels.tinyLlamaF16;

describe("inspectGguf on the real tiny-fortunes model", () => {
  it("counts 5,507,328 parameters, matching the LLaMA layout computed by hand and the raw tensor dims", async () => {
    const inspection = await inspectGguf(modelPath);
    const [vocab, embd, ff, layers] = [4096, 256, 768, 4];
    // token_embd + untied output, then per layer: q/k/v/o (4·embd²), SwiGLU gate/up/down (3·embd·ff), two RMSNorms; then output_norm.
    const byHand = 2 * vocab * embd + layers * (4 * embd * embd + 3 * embd * ff + 2 * embd) + embd;
    const header = await readGgufHeader(modelPath);
    const fromDims = header.tensors.reduce((sum, tensor) => sum + tensor.dims.reduce((product, size) => product * size, 1), 0);
    expect(inspection.parameterCount).toBe(5_507_328);
    expect(byHand).toBe(5_507_328);
    expect(fromDims).toBe(5_507_328);
  });

  it("reports architecture, hyper-parameters, file type and bits per weight by type", async () => {
    const inspection = await inspectGguf(modelPath);
    expect(inspection).toMatchObject({ format: "gguf", architecture: "llama", version: 3, tensorCount: 39, fileSizeBytes: 11_112_704 });
    expect(inspection.fileType).toEqual({ id: 1, name: "F16", description: "F16" });
    expect(inspection.hyperParameters).toEqual({
      contextLength: 256,
      embeddingLength: 256,
      blockCount: 4,
      feedForwardLength: 768,
      headCount: 8,
      headCountKv: 8,
      headDim: 32,
      ropeFreqBase: 10000,
      layerNormRmsEpsilon: 1e-5,
      vocabSize: 4096,
    });
    // Matrices F16, the nine norm vectors (2 per layer + output_norm) F32.
    expect(inspection.byDtype).toEqual([
      { dtype: "F16", tensorCount: 30, parameterCount: 5_505_024, sizeBytes: 11_010_048, bitsPerWeight: 16 },
      { dtype: "F32", tensorCount: 9, parameterCount: 2_304, sizeBytes: 9_216, bitsPerWeight: 32 },
    ]);
    expect(inspection.bitsPerWeight).toBeCloseTo((11_019_264 * 8) / 5_507_328, 12);
    expect(inspection.metadata["tokenizer.ggml.tokens"]).toMatchObject({ type: "array", itemType: "string", length: 4096, firstValues: ["<unk>", "<s>", "</s>", "<0x00>", "<0x01>", "<0x02>", "<0x03>", "<0x04>"] });
    expect(inspection.metadata["llama.block_count"]).toEqual({ type: "uint32", value: 4 });
    expect(JSON.parse(JSON.stringify(inspection))).toEqual(inspection);
  });

  it("sizes the KV cache as 2 × n_layer × ctx × n_head_kv × head_dim × 2 bytes, at the model's context and at --ctx", async () => {
    const atModelCtx = await inspectGguf(modelPath);
    expect(atModelCtx.memory.contextLength).toBe(256);
    expect(atModelCtx.memory.kvCacheBytes).toBe(2 * 4 * 256 * 8 * 32 * 2);
    expect(atModelCtx.memory.weightsBytes).toBe(11_019_264);
    const atCtx1024 = await inspectGguf(modelPath, { contextLength: 1024 });
    expect(atCtx1024.memory.kvCacheBytes).toBe(2 * 4 * 1024 * 8 * 32 * 2);
    const { weightsBytes, kvCacheBytes = 0, computeBufferBytes = 0, estimatedRunBytes } = atCtx1024.memory;
    expect(computeBufferBytes).toBeGreaterThan(0);
    expect(estimatedRunBytes).toBe(weightsBytes + kvCacheBytes + computeBufferBytes);
    expect(atCtx1024.memory.method).toMatch(/^estimate:/);
  });

  it("refuses a non-positive context length", async () => {
    await expect(inspectGguf(modelPath, { contextLength: 0 })).rejects.toMatchObject({ code: "INVALID_OPTION" });
  });
});
