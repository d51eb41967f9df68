import { describe, expect, it } from "vitest";
import { assessFit } from "../hardware/assess-fit.js";
import { loadTargetProfile } from "../hardware/load-target-profile.js";
import { recommendFrameworks } from "../hardware/recommend-frameworks.js";
import type { TargetProfile } from "../hardware/target-profile.js";
import { generatePlan, memoryBatchTokens, type PassDescriptor } from "./generate-plan.js";
import { resolveWorkflowConfig } from "./load-workflow-config.js";
import type { ModelFacts } from "./plan-types.js";

const onnxPasses: PassDescriptor[] = [
  { id: "onnx.convert.fp16", inputFormat: "onnx", outputFormat: "onnx", searchSpace: {} },
  { id: "onnx.quantize.int8-dynamic", inputFormat: "onnx", outputFormat: "onnx", searchSpace: { perChannel: [true, false] } },
  { id: "onnx.quantize.int8-static", inputFormat: "onnx", outputFormat: "onnx", searchSpace: {} },
  { id: "onnx.quantize.int4", inputFormat: "onnx", outputFormat: "onnx", searchSpace: {} },
  { id: "onnx.quantize.auto", inputFormat: "onnx", outputFormat: "onnx", searchSpace: {} },
  { id: "gguf.quantize", inputFormat: "gguf", outputFormat: "gguf", searchSpace: { method: ["Q8_0", "Q6_K", "Q4_K_M", "Q4_0"] } },
];

function onnxFacts(target: TargetProfile, weightNodesByOp: Record<string, number>): ModelFacts {
  const summary = { format: "onnx" as const, path: "m.onnx", fileSizeBytes: 10e6, parameterCount: 2.5e6, byDtype: [], architecture: "cnn", memory: { weightsBytes: 10e6, estimatedRunBytes: 60e6, method: "test" } };
  return { format: "onnx", path: "m.onnx", sizeBytes: 10e6, parameterCount: 2.5e6, architecture: "cnn", modelKind: "vision", hasFloat32Weights: true, weightNodesByOp, fit: assessFit(summary, target) };
}

const local = { availableThreads: 2, runtimes: ["ort", "llama-cpp"], ortExecutionProviders: ["cpu"] };
const ids0 = (plan: { candidates: { id: string }[] }): string[] => plan.candidates.map((c) => c.id);

describe("generatePlan", () => {
  it("plans ONNX passes with reasons, skips what cannot apply, and crosses runtime settings", async () => {
    const target = await loadTargetProfile("raspberry-pi-5-8gb");
    const config = resolveWorkflowConfig({ schemaVersion: 1, model: "m.onnx", output: "o", data: { evaluation: "eval" } }, "test");
    // A CRNN-style model: convolutions and one LSTM (int8-dynamic's default op types include LSTM, not Conv).
    const plan = generatePlan({ facts: onnxFacts(target, { Conv: 38, MatMul: 0, LSTM: 1 }), target, frameworks: recommendFrameworks(target, { modelKind: "vision" }), passes: onnxPasses, config, local });
    expect(plan.baseline).toMatchObject({ id: "fp32-2t-all", isBaseline: true, runtime: { runtime: "ort", threads: 2, graphOptimizationLevel: "all", executionProvider: "cpu" } });
    expect(plan.skipped.map((s) => s.label)).toEqual(["onnx.quantize.int8-static", "onnx.quantize.int4", "onnx.quantize.auto"]);
    expect(plan.skipped[0]?.reason).toContain("calibration");
    expect(plan.skipped[1]?.reason).toContain("MatMul");
    // auto is calibrated on its own data, not on the evaluation set its accuracy is measured on.
    expect(plan.skipped[2]?.reason).toBe("accuracy-aware quantization needs calibration data (--calibration)");
    // fp16, int8-dynamic ×2 options = 3 chains × 6 runtime settings (2 threads × basic, all, all without
    // arena/memory pattern), plus 5 more settings of the input model.
    expect(plan.candidates).toHaveLength(3 * 6 + 5);
    expect(ids0(plan)).toContain("fp32-1t-all-noarena");
    expect(plan.candidates.find((c) => c.id === "fp32-1t-all-noarena")?.runtime).toMatchObject({ enableCpuMemArena: false, enableMemPattern: false });
    const ids = plan.candidates.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain("int8-dynamic-perChannel-false-1t-basic");
    expect(plan.candidates.every((c) => c.reasons.length > 0)).toBe(true);
    expect(plan.reasons.some((r) => r.includes("measured on this machine"))).toBe(true);
  });

  it("leaves int8-dynamic out of a convolution-only model, saying why (its default op types would quantize nothing)", async () => {
    const target = await loadTargetProfile("raspberry-pi-5-8gb");
    const config = resolveWorkflowConfig({ schemaVersion: 1, model: "m.onnx", output: "o", data: { evaluation: "eval", calibration: "calibration" } }, "test");
    const plan = generatePlan({ facts: onnxFacts(target, { Conv: 38 }), target, frameworks: recommendFrameworks(target, { modelKind: "vision" }), passes: onnxPasses, config, local });
    expect(plan.candidates.some((c) => c.chain.some((step) => step.passId === "onnx.quantize.int8-dynamic"))).toBe(false);
    const skipped = plan.skipped.find((s) => s.label === "onnx.quantize.int8-dynamic");
    expect(skipped?.reason).toMatch(/38 Conv nodes would run as ConvInteger.*int8-static/);
    expect(plan.candidates.some((c) => c.chain.some((step) => step.passId === "onnx.quantize.auto"))).toBe(true);
  });

  it("respects include/exclude lists and fixed thread and level choices", async () => {
    const target = await loadTargetProfile("x86-avx512-server");
    const config = resolveWorkflowConfig(
      { schemaVersion: 1, model: "m.onnx", output: "o", candidates: { passes: ["onnx.quantize.int8-dynamic", "onnx.convert.fp16"], exclude: ["onnx.convert.fp16"], threads: [2], graphOptimizationLevels: ["all"], passOptions: { "onnx.quantize.int8-dynamic": { perChannel: true } } } },
      "test",
    );
    const plan = generatePlan({ facts: onnxFacts(target, { MatMul: 4 }), target, frameworks: [], passes: onnxPasses, config, local });
    expect(plan.candidates.map((c) => c.id)).toEqual(["fp32-2t-all-noarena", "int8-dynamic-2t-all", "int8-dynamic-2t-all-noarena"]);
    expect(plan.candidates[1]?.chain).toEqual([{ passId: "onnx.quantize.int8-dynamic", options: { perChannel: true } }]);
  });

  it("chooses thread candidates and the default-settings baseline from the free cores, and says why (ONNX and GGUF alike)", async () => {
    const target = await loadTargetProfile("raspberry-pi-5-8gb");
    const config = resolveWorkflowConfig({ schemaVersion: 1, model: "m.onnx", output: "o", candidates: { graphOptimizationLevels: ["all"], memorySettings: false, passes: ["onnx.convert.fp16"] } }, "test");
    const load = { cores: 2, busyCores: 1.6, loadAverage1m: 15.2, freeCores: 1, oversubscribed: true, sampleMs: 500 };
    const busy = { ...local, freeCores: 1, load };
    const plan = generatePlan({ facts: onnxFacts(target, { Conv: 2 }), target, frameworks: [], passes: onnxPasses, config, local: busy });
    // The default's two threads would wait for the one free core: the baseline runs on the free core.
    expect(plan.baseline).toMatchObject({ id: "fp32-1t-all", runtime: { threads: 1 } });
    expect(ids0(plan)).toEqual(["fp16-1t-all"]);
    expect(plan.defaultThreads).toEqual({ reducedToFreeCores: true, why: expect.stringMatching(/default is every core \(2 threads\).*1\.6 of 2 cores busy.*load average 15\.20.*measured with 1 thread, the free core/) });
    expect(plan.baseline.reasons.join(" ")).toContain("threads: the runtime's default is every core");

    const quiet = generatePlan({ facts: onnxFacts(target, { Conv: 2 }), target, frameworks: [], passes: onnxPasses, config, local: { ...local, freeCores: 2 } });
    expect(quiet.baseline.runtime.threads).toBe(2);
    expect(quiet.defaultThreads).toEqual({ reducedToFreeCores: false, why: "every core (2 threads), the runtime's default" });

    const summary = { format: "gguf" as const, path: "m.gguf", fileSizeBytes: 11e6, parameterCount: 5.5e6, byDtype: [], architecture: "llama", memory: { weightsBytes: 11e6, estimatedRunBytes: 12e6, method: "test" } };
    const facts: ModelFacts = { format: "gguf", path: "m.gguf", sizeBytes: 11e6, parameterCount: 5.5e6, architecture: "llama", modelKind: "llm", hasFloat32Weights: false, weightNodesByOp: {}, fileType: "F16", fit: assessFit(summary, target) };
    const gguf = generatePlan({ facts, target, frameworks: [], passes: onnxPasses, config: resolveWorkflowConfig({ schemaVersion: 1, model: "m.gguf", output: "o" }, "test"), local: busy });
    expect(gguf.baseline).toMatchObject({ id: "f16-1t", runtime: { runtime: "llama-cpp", threads: 1 } });
    expect(gguf.defaultThreads?.reducedToFreeCores).toBe(true);
    expect(gguf.candidates.every((c) => c.runtime.threads === 1)).toBe(true);
  });

  it("plans only the llama.cpp types that fit the target's memory", async () => {
    const target = { ...(await loadTargetProfile("raspberry-pi-5-8gb")), memoryBudgetBytes: 5_000_000 };
    const summary = { format: "gguf" as const, path: "m.gguf", fileSizeBytes: 11e6, parameterCount: 5.5e6, byDtype: [], architecture: "llama", memory: { weightsBytes: 11e6, estimatedRunBytes: 12e6, method: "test" } };
    const facts: ModelFacts = { format: "gguf", path: "m.gguf", sizeBytes: 11e6, parameterCount: 5.5e6, architecture: "llama", modelKind: "llm", hasFloat32Weights: false, weightNodesByOp: {}, fileType: "F16", fit: assessFit(summary, target) };
    const config = resolveWorkflowConfig({ schemaVersion: 1, model: "m.gguf", output: "o", candidates: { threads: [1] } }, "test");
    const plan = generatePlan({ facts, target, frameworks: recommendFrameworks(target, { modelKind: "llm" }), passes: onnxPasses, config, local });
    expect(plan.baseline.id).toBe("f16-1t");
    const types = [...new Set(plan.candidates.flatMap((c) => (c.chain[0] ? [c.chain[0].options.method] : [])))];
    // 5.5 M weights: Q8_0 ≈ 5.8 MB + 1 MB non-weight cost exceeds 5 MB; Q4_K_M ≈ 3.4 MB + 1 MB fits.
    expect(types).toEqual(["Q4_K_M", "Q4_0"]);
    expect(plan.skipped.find((s) => s.label === "gguf.quantize Q8_0")?.reason).toContain("exceeds");
    expect(plan.reasons[0]).toContain("llama.cpp");
  });

  it("tries llama.cpp with a smaller batch as its memory setting, never for the default-settings baseline", async () => {
    const target = await loadTargetProfile("raspberry-pi-5-8gb");
    const summary = { format: "gguf" as const, path: "m.gguf", fileSizeBytes: 11e6, parameterCount: 5.5e6, byDtype: [], architecture: "llama", memory: { weightsBytes: 11e6, estimatedRunBytes: 12e6, method: "test" } };
    const factsAt = (contextLength: number): ModelFacts => ({ format: "gguf", path: "m.gguf", sizeBytes: 11e6, parameterCount: 5.5e6, architecture: "llama", modelKind: "llm", hasFloat32Weights: false, weightNodesByOp: {}, fileType: "F16", contextLength, fit: assessFit(summary, target) });
    const configWith = (candidates: Record<string, unknown>) => resolveWorkflowConfig({ schemaVersion: 1, model: "m.gguf", output: "o", candidates: { threads: [1], ggufTypes: ["Q4_0"], ...candidates } }, "test");
    const plan = generatePlan({ facts: factsAt(256), target, frameworks: [], passes: onnxPasses, config: configWith({}), local });
    expect(plan.baseline).toMatchObject({ id: "f16-1t", runtime: { runtime: "llama-cpp", threads: 1 } });
    expect(plan.baseline.runtime.batchSize).toBeUndefined();
    // The input model at the smaller batch too (the setting's own effect), as ONNX gets its no-arena candidate.
    expect(plan.candidates.map((c) => c.id)).toEqual([`f16-1t-b${memoryBatchTokens}`, "q4_0-1t", `q4_0-1t-b${memoryBatchTokens}`]);
    const small = plan.candidates[2] as (typeof plan.candidates)[number];
    expect(small.runtime).toMatchObject({ runtime: "llama-cpp", threads: 1, batchSize: memoryBatchTokens });
    expect(small.label).toContain(`batch ${memoryBatchTokens} tokens`);
    expect(small.coordinates.batch).toBe(String(memoryBatchTokens));
    // Left out when asked, and when the context is no larger than that batch (it would be the default again).
    expect(generatePlan({ facts: factsAt(256), target, frameworks: [], passes: onnxPasses, config: configWith({ memorySettings: false }), local }).candidates.map((c) => c.id)).toEqual(["q4_0-1t"]);
    expect(generatePlan({ facts: factsAt(memoryBatchTokens), target, frameworks: [], passes: onnxPasses, config: configWith({}), local }).candidates.map((c) => c.id)).toEqual(["q4_0-1t"]);
  });

  describe("MLX candidates", () => {
    const mlxPass: PassDescriptor = { id: "mlx.export", inputFormat: "safetensors", outputFormat: "mlx", searchSpace: { bits: [4, 8], groupSize: [64] } };
    const planFor = async (targetName: string, here: { runtimes: string[]; mlxUnavailable?: string }, passes?: string[]) => {
      const target = await loadTargetProfile(targetName);
      const summary = { format: "gguf" as const, path: "m.gguf", fileSizeBytes: 11e6, parameterCount: 5.5e6, byDtype: [], architecture: "llama", memory: { weightsBytes: 11e6, estimatedRunBytes: 12e6, method: "test" } };
      const facts: ModelFacts = { format: "gguf", path: "m.gguf", sizeBytes: 11e6, parameterCount: 5.5e6, architecture: "llama", modelKind: "llm", hasFloat32Weights: false, weightNodesByOp: {}, fileType: "F16", fit: assessFit(summary, target) };
      const config = resolveWorkflowConfig({ schemaVersion: 1, model: "m.gguf", output: "o", candidates: { threads: [1], ...(passes ? { passes } : {}) } }, "test");
      return generatePlan({ facts, target, frameworks: recommendFrameworks(target, { modelKind: "llm" }), passes: [mlxPass], config, local: { ...local, ...here } });
    };

    it("are measured on the MLX runtime where node-mlx loads: on an Apple target, or here when asked for with --pass", async () => {
      for (const plan of [await planFor("apple-m2-8gb", { runtimes: ["llama-cpp", "mlx"] }), await planFor("raspberry-pi-5-8gb", { runtimes: ["llama-cpp", "mlx"] }, ["mlx.export"])]) {
        const mlx = plan.candidates.filter((c) => c.chain.some((step) => step.passId === "mlx.export"));
        expect(mlx.map((c) => [c.id, c.measurable, c.runtime.runtime])).toEqual([
          ["mlx-bits-4", true, "mlx"],
          ["mlx-bits-8", true, "mlx"],
        ]);
        expect(mlx[0]?.reasons.join(" ")).toContain("measured on this machine's CPU");
      }
    });

    it("where node-mlx does not load, the plan and the candidates say so (size only)", async () => {
      const apple = await planFor("apple-m2-8gb", { runtimes: ["llama-cpp"], mlxUnavailable: "libblas.so.3: cannot open shared object file" });
      const mlx = apple.candidates.filter((c) => c.chain.some((step) => step.passId === "mlx.export"));
      expect(mlx.map((c) => c.measurable)).toEqual([false, false]);
      expect(mlx[0]?.reasons.join(" ")).toMatch(/MLX does not load on this machine \(libblas\.so\.3.*\): size only, not measured/);
      const pi = await planFor("raspberry-pi-5-8gb", { runtimes: ["llama-cpp"], mlxUnavailable: "libblas.so.3: cannot open shared object file" }, ["mlx.export"]);
      expect(pi.skipped.find((s) => s.label === "mlx.export")?.reason).toMatch(/Apple silicon only, and node-mlx does not load here \(libblas/);
      const notAsked = await planFor("raspberry-pi-5-8gb", { runtimes: ["llama-cpp", "mlx"] });
      expect(notAsked.skipped.find((s) => s.label === "mlx.export")?.reason).toContain("when asked for (--pass mlx.export)");
    });
  });
});
