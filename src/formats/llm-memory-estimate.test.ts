import { describe, expect, it } from "vitest";
import { estimateComputeBufferBytes, estimateKvCacheBytes, estimateLlmMemory, type LlmDimensions } from "./llm-memory-estimate.js";

const tinyFortunes: LlmDimensions = { layerCount: 4, embeddingLength: 256, headCount: 8, headCountKv: 8, keyLength: 32, valueLength: 32, feedForwardLength: 768, vocabSize: 4096 };
const mib = 1024 * 1024;

describe("LLM memory estimate", () => {
  it("matches the KV and compute buffers llama.cpp reported for the tiny-fortunes model (node-llama-cpp 3.22.1, CPU)", () => {
    // llama.cpp: "KV buffer size = 1.00 MiB" / "compute buffer size = 4.50 MiB" at n_ctx 256; 4.00 / 9.00 MiB at n_ctx 1024.
    expect(estimateKvCacheBytes(tinyFortunes, 256)).toBe(1 * mib);
    expect(estimateKvCacheBytes(tinyFortunes, 1024)).toBe(4 * mib);
    expect(estimateComputeBufferBytes(tinyFortunes, 256) / mib).toBeCloseTo(4.5, 2);
    expect(estimateComputeBufferBytes(tinyFortunes, 1024) / mib).toBeCloseTo(9.0, 2);
  });

  it("uses per-layer KV head counts and separate K/V widths", () => {
    const mixed: LlmDimensions = { ...tinyFortunes, layerCount: 3, headCountKv: [8, 2, 0], keyLength: 64, valueLength: 32 };
    expect(estimateKvCacheBytes(mixed, 100)).toBe((8 + 2 + 0) * 100 * (64 + 32) * 2);
  });

  it("falls back to weights only without dimensions, and labels every result an estimate", () => {
    const weightsOnly = estimateLlmMemory(1000, undefined, 256);
    expect(weightsOnly).toMatchObject({ weightsBytes: 1000, estimatedRunBytes: 1000 });
    expect(weightsOnly.kvCacheBytes).toBeUndefined();
    const full = estimateLlmMemory(1000, tinyFortunes, 256);
    expect(full.estimatedRunBytes).toBe(1000 + 1 * mib + 4.5 * mib);
    for (const estimate of [weightsOnly, full]) expect(estimate.method).toMatch(/^estimate:/);
  });
});
