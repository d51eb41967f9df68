import { describe, expect, it } from "vitest";
import { loadTargetProfile } from "./load-target-profile.js";
import { recommendFrameworks, type RankedFramework } from "./recommend-frameworks.js";
import type { RuntimeAvailability } from "./runtime-availability.js";
import type { TargetProfile } from "./target-profile.js";

const genericAmdServer: TargetProfile = {
  schemaVersion: 1,
  name: "amd-box",
  description: "AMD EPYC without accelerators",
  os: { platform: "linux" },
  cpu: { arch: "x64", vendor: "amd", model: "AMD EPYC", cores: 16, threads: 32, features: ["avx", "avx2", "fma"] },
  memoryBytes: 64 * 1024 ** 3,
  memoryBudgetBytes: 48 * 1024 ** 3,
  accelerators: [],
  preferredFormats: ["onnx"],
  preferredRuntimes: ["onnxruntime"],
  notes: [],
  sources: [],
  origin: "detected",
};

const installed = (framework: RuntimeAvailability["framework"], workingBackends?: string[]): RuntimeAvailability => ({
  framework,
  packageName: framework,
  installed: true,
  ...(workingBackends ? { workingBackends } : {}),
});
const everythingInstalled = [installed("openvino"), installed("mlx"), installed("llama.cpp"), installed("onnxruntime")];
const withoutOpenvino = everythingInstalled.filter((runtime) => runtime.framework !== "openvino");

const order = (ranked: RankedFramework[]) => ranked.filter((entry) => entry.usable).map((entry) => entry.framework);
const entry = (ranked: RankedFramework[], framework: string) => ranked.find((candidate) => candidate.framework === framework);

describe("recommendFrameworks", () => {
  it("puts OpenVINO first on Intel CPUs and NPUs when it is installed", async () => {
    for (const name of ["intel-core-ultra-npu", "x86-avx512-server"]) {
      const target = await loadTargetProfile(name);
      for (const modelKind of ["llm", "vision"] as const) {
        expect(order(recommendFrameworks(target, { modelKind, availableRuntimes: everythingInstalled }))[0]).toBe("openvino");
      }
    }
    const npuLaptop = recommendFrameworks(await loadTargetProfile("intel-core-ultra-npu"), { modelKind: "vision" });
    expect(entry(npuLaptop, "openvino")?.reasons.join(" ")).toMatch(/NPU/);
  });

  it("ranks OpenVINO lower on Intel when openvino-node is missing, yet still names it the best choice", async () => {
    const target = await loadTargetProfile("intel-core-ultra-npu");
    const ranked = recommendFrameworks(target, { modelKind: "vision", availableRuntimes: withoutOpenvino });
    const openvino = entry(ranked, "openvino");
    expect(openvino).toMatchObject({ usable: false, unusableReason: "openvino-node not installed", ruleScore: 100 });
    expect(openvino?.reasons.join(" ")).toMatch(/best choice for this target once installed \(npm install openvino-node\)/);
    expect(ranked[0]?.framework).toBe("onnxruntime");
    expect(ranked[0]?.score).toBeGreaterThan(openvino?.score ?? Number.POSITIVE_INFINITY);
  });

  it("puts MLX first on Apple silicon, with llama.cpp (Metal) next for LLMs", async () => {
    for (const name of ["apple-m2-8gb", "iphone-15-pro"]) {
      const ranked = recommendFrameworks(await loadTargetProfile(name), { modelKind: "llm", availableRuntimes: everythingInstalled });
      expect(order(ranked).slice(0, 2)).toEqual(["mlx", "llama.cpp"]);
      expect(entry(ranked, "llama.cpp")?.reasons.join(" ")).toMatch(/Metal/);
    }
  });

  it("prefers llama.cpp for LLMs and ONNX Runtime for vision on ARM boards and Android", async () => {
    for (const name of ["raspberry-pi-5-8gb", "android-snapdragon-8-gen-3"]) {
      const target = await loadTargetProfile(name);
      expect(order(recommendFrameworks(target, { modelKind: "llm", availableRuntimes: everythingInstalled }))[0]).toBe("llama.cpp");
      expect(order(recommendFrameworks(target, { modelKind: "vision", availableRuntimes: everythingInstalled }))[0]).toBe("onnxruntime");
    }
  });

  it("prefers ONNX Runtime on NVIDIA, and penalises it when its CUDA/TensorRT providers do not work", async () => {
    const jetson = await loadTargetProfile("jetson-orin-nano-8gb");
    const ranked = recommendFrameworks(jetson, { modelKind: "llm", availableRuntimes: everythingInstalled });
    expect(order(ranked)[0]).toBe("onnxruntime");
    const cpuOnly = recommendFrameworks(jetson, {
      modelKind: "llm",
      availableRuntimes: [installed("onnxruntime", ["cpu"]), installed("llama.cpp", ["cpu", "cuda"])],
    });
    expect(order(cpuOnly)[0]).toBe("llama.cpp");
    expect(entry(cpuOnly, "onnxruntime")?.reasons.join(" ")).toMatch(/cuda\/tensorrt backend does not work here/);
  });

  it("lets an NVIDIA GPU outrank OpenVINO on an Intel host", () => {
    const intelWithH100: TargetProfile = {
      ...genericAmdServer,
      cpu: { ...genericAmdServer.cpu, vendor: "intel" },
      accelerators: [{ kind: "gpu", vendor: "nvidia", name: "H100", apis: ["cuda"], sharesSystemMemory: false, memoryBytes: 80 * 1024 ** 3 }],
    };
    expect(order(recommendFrameworks(intelWithH100, { modelKind: "vision", availableRuntimes: everythingInstalled }))[0]).toBe("onnxruntime");
  });

  it("uses ONNX Runtime for vision and llama.cpp for LLMs on a generic x86 machine", () => {
    expect(order(recommendFrameworks(genericAmdServer, { modelKind: "vision", availableRuntimes: everythingInstalled }))[0]).toBe("onnxruntime");
    expect(order(recommendFrameworks(genericAmdServer, { modelKind: "llm", availableRuntimes: everythingInstalled }))[0]).toBe("llama.cpp");
  });

  it("never offers MLX off Apple silicon, nor llama.cpp for non-language models", () => {
    const ranked = recommendFrameworks(genericAmdServer, { modelKind: "audio", availableRuntimes: everythingInstalled });
    expect(entry(ranked, "mlx")).toMatchObject({ usable: false, score: 0, unusableReason: "MLX runs only on Apple silicon (macOS/iOS)" });
    expect(entry(ranked, "llama.cpp")).toMatchObject({ usable: false, unusableReason: "llama.cpp runs GGUF language models, not audio models" });
  });

  it("marks an installed runtime that ran nothing as unusable, with its reason", () => {
    const broken: RuntimeAvailability = { framework: "onnxruntime", packageName: "onnxruntime-node", installed: true, workingBackends: [], reason: "no execution provider ran the probe model" };
    const ranked = recommendFrameworks(genericAmdServer, { modelKind: "vision", availableRuntimes: [broken] });
    expect(entry(ranked, "onnxruntime")?.unusableReason).toMatch(/installed but ran nothing here: no execution provider/);
  });

  it("ranks on hardware alone when no availability is given", async () => {
    const ranked = recommendFrameworks(await loadTargetProfile("x86-avx512-server"), { modelKind: "vision" });
    expect(ranked.every((candidate) => candidate.score === candidate.ruleScore)).toBe(true);
    expect(ranked[0]?.framework).toBe("openvino");
  });
});
