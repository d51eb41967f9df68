import { describe, expect, it } from "vitest";
import type { HardwareReport } from "./hardware-report.js";
import { localMemoryBudgetFraction, targetFromHardware } from "./target-from-hardware.js";
import { targetProfileFileSchema } from "./target-profile.js";

const jetsonLike: HardwareReport = {
  os: { platform: "linux", release: "5.15.148-tegra", distro: "Ubuntu 22.04.4 LTS", machineModel: "NVIDIA Jetson Orin Nano Developer Kit" },
  cpu: {
    architecture: "arm64",
    vendor: "arm",
    model: "Cortex-A78AE",
    physicalCores: 6,
    logicalThreads: 6,
    availableThreads: 6,
    features: ["neon", "dotprod", "fp16"],
    featureSource: "/proc/cpuinfo",
    caches: [],
  },
  memory: { totalMemoryBytes: 7_990_000_000, availableMemoryBytes: 6_000_000_001, source: "/proc/meminfo" },
  gpus: [{ vendor: "nvidia", name: "Orin (nvgpu)", sharesSystemMemory: true, source: "nvidia-smi" }],
  npus: [],
  energyCounters: [],
  notes: [],
};

describe("targetFromHardware", () => {
  it("budgets a documented fraction of available memory", () => {
    const target = targetFromHardware(jetsonLike);
    expect(localMemoryBudgetFraction).toBe(0.8);
    expect(target.memoryBudgetBytes).toBe(Math.floor(6_000_000_001 * 0.8));
    expect(target.notes[0]).toMatch(/80% of the .* available/);
  });

  it("carries CPU features and accelerators over, and prefers by the decision tree", () => {
    const target = targetFromHardware(jetsonLike);
    expect(target).toMatchObject({ name: "local", origin: "detected", cpu: { arch: "arm64", cores: 6, features: ["neon", "dotprod", "fp16"] } });
    expect(target.accelerators).toEqual([{ kind: "gpu", vendor: "nvidia", name: "Orin (nvgpu)", apis: ["cuda"], sharesSystemMemory: true }]);
    expect(target.preferredRuntimes[0]).toBe("onnxruntime");
    expect(target.preferredFormats).toEqual(["onnx", "gguf"]);
  });

  it("produces a record that satisfies the profile file schema", () => {
    const { origin: _origin, ...file } = targetFromHardware(jetsonLike);
    expect(targetProfileFileSchema.safeParse({ ...file, sources: ["https://example.org/"] }).success).toBe(true);
  });

  it("falls back to logical threads when physical cores are unknown", () => {
    const target = targetFromHardware({ ...jetsonLike, cpu: { ...jetsonLike.cpu, physicalCores: "unknown", logicalThreads: 3 } });
    expect(target.cpu.cores).toBe(3);
  });
});
