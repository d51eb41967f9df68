import { describe, expect, it } from "vitest";
import type { ModelSummary } from "../formats/model-inspection.js";
import { assessFit } from "./assess-fit.js";
import { loadTargetProfile } from "./load-target-profile.js";

const GiB = 1024 ** 3;

/** An 8B-parameter F16 GGUF with a 1 GiB KV cache and 0.5 GiB of runtime overhead. */
const llama8bF16: ModelSummary = {
  format: "gguf",
  path: "llama-8b-f16.gguf",
  fileSizeBytes: 16e9,
  parameterCount: 8e9,
  byDtype: [{ dtype: "F16", parameterCount: 8e9, sizeBytes: 16e9 }],
  architecture: "llama",
  memory: { weightsBytes: 16e9, kvCacheBytes: GiB, contextLength: 8192, estimatedRunBytes: 16e9 + 1.5 * GiB, method: "weights + KV cache + overhead" },
};

const resnetOnnx: ModelSummary = {
  format: "onnx",
  path: "resnet50.onnx",
  fileSizeBytes: 102e6,
  parameterCount: 25.5e6,
  byDtype: [{ dtype: "float32", parameterCount: 25.5e6, sizeBytes: 102e6 }],
  architecture: "cnn",
  memory: { weightsBytes: 102e6, estimatedRunBytes: 180e6, method: "weights + activations" },
};

describe("assessFit", () => {
  it("says an F16 8B model does not fit a Raspberry Pi 5, with the numbers", async () => {
    const pi = await loadTargetProfile("raspberry-pi-5-8gb");
    const fit = assessFit(llama8bF16, pi);
    expect(fit).toMatchObject({ fits: false, isEstimate: true, memoryBudgetBytes: 6 * GiB, estimatedRunBytes: 16e9 + 1.5 * GiB });
    expect(fit.headroomBytes).toBe(6 * GiB - (16e9 + 1.5 * GiB));
    expect(fit.currentBitsPerWeight).toBeCloseTo(16, 9);
  });

  it("sizes each llama.cpp type from its bits per weight and picks the most precise one that fits", async () => {
    const pi = await loadTargetProfile("raspberry-pi-5-8gb");
    const fit = assessFit(llama8bF16, pi);
    const q4km = fit.options.find((option) => option.quantization === "Q4_K_M");
    expect(q4km?.estimatedWeightsBytes).toBe(Math.round((8e9 * 4.89) / 8));
    // Non-weight bytes (KV cache + overhead) do not shrink with the weights.
    expect(q4km?.estimatedRunBytes).toBe(Math.round((8e9 * 4.89) / 8) + 1.5 * GiB);
    // Budget 6 GiB = 6.44 GB. Q4_K_M needs 4.89 GB + 1.61 GB = 6.50 GB (just over);
    // Q4_0 needs 4.50 GB + 1.61 GB = 6.11 GB: the most precise type that fits.
    expect(fit.options.filter((option) => option.fits).map((option) => option.quantization)).toEqual(["Q4_0", "Q3_K_M", "Q2_K"]);
    expect(fit.bestFittingQuantization).toBe("Q4_0");
    expect(fit.notes.join(" ")).toMatch(/KV cache .* at 8192 tokens/);
  });

  it("fits everything on a large server", async () => {
    const fit = assessFit(llama8bF16, await loadTargetProfile("x86-avx512-server"));
    expect(fit.fits).toBe(true);
    expect(fit.bestFittingQuantization).toBe("F16");
  });

  it("offers fp32/fp16/int8/int4 estimates for ONNX models", async () => {
    const fit = assessFit(resnetOnnx, await loadTargetProfile("raspberry-pi-5-8gb"));
    expect(fit.fits).toBe(true);
    expect(fit.options.map((option) => [option.quantization, option.estimatedWeightsBytes])).toEqual([
      ["fp32", 102e6],
      ["fp16", 51e6],
      ["int8", 25.5e6],
      ["int4", Math.round((25.5e6 * 4.5) / 8)],
    ]);
  });

  it("adds MLX quantizations for a safetensors LLM aimed at an Apple target", async () => {
    const safetensorsLlm: ModelSummary = { ...llama8bF16, format: "safetensors", path: "llama-8b/" };
    const fit = assessFit(safetensorsLlm, await loadTargetProfile("apple-m2-8gb"));
    expect(new Set(fit.options.map((option) => option.format))).toEqual(new Set(["gguf", "mlx"]));
    expect(fit.options.find((option) => option.format === "mlx" && option.quantization === "4bit")?.bitsPerWeight).toBe(4.5);
  });

  it("cannot size quantizations when the parameter count is unknown", async () => {
    const fit = assessFit({ ...resnetOnnx, parameterCount: 0 }, await loadTargetProfile("raspberry-pi-5-8gb"));
    expect(fit.options).toEqual([]);
    expect(fit.notes.join(" ")).toMatch(/parameter count is unknown/);
  });
});
