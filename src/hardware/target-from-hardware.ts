import type { ModelFormat } from "../core/artifact.js";
import { formatBytes } from "../core/units.js";
import type { HardwareReport } from "./hardware-report.js";
import { recommendFrameworks } from "./recommend-frameworks.js";
import type { Framework, TargetAccelerator, TargetProfile } from "./target-profile.js";

/**
 * A model may use this fraction of the memory available at detection time; the rest absorbs
 * allocator slack, the page cache a memory-mapped model needs, and other processes growing.
 */
export const localMemoryBudgetFraction = 0.8;

const platformNames: Record<string, string> = { win32: "windows" };

const frameworkFormats: Record<Framework, ModelFormat> = {
  onnxruntime: "onnx",
  openvino: "onnx",
  "llama.cpp": "gguf",
  mlx: "mlx",
};

function acceleratorsOf(report: HardwareReport): TargetAccelerator[] {
  const gpus = report.gpus.map((gpu): TargetAccelerator => {
    const apis = gpu.vendor === "nvidia" ? ["cuda"] : gpu.vendor === "apple" ? ["metal"] : [];
    return {
      kind: "gpu",
      vendor: gpu.vendor,
      name: gpu.name,
      apis,
      sharesSystemMemory: gpu.sharesSystemMemory,
      ...(gpu.memoryBytes !== undefined ? { memoryBytes: gpu.memoryBytes } : {}),
    };
  });
  const npus = report.npus.map(
    (npu): TargetAccelerator => ({
      kind: "npu",
      vendor: npu.vendor,
      name: npu.name,
      apis: npu.vendor === "intel" ? ["openvino"] : npu.vendor === "apple" ? ["coreml"] : [],
      sharesSystemMemory: true,
    }),
  );
  return [...gpus, ...npus];
}

function architectureOf(arch: string): TargetProfile["cpu"]["arch"] {
  return arch === "arm64" || arch === "arm" ? arch : "x64";
}

/** The `local` target: this machine as detected, with a memory budget of a fixed fraction of available RAM. */
export function targetFromHardware(report: HardwareReport): TargetProfile {
  const { cpu, memory } = report;
  const cores = cpu.physicalCores === "unknown" ? cpu.logicalThreads : cpu.physicalCores;
  const memoryBudgetBytes = Math.floor(memory.availableMemoryBytes * localMemoryBudgetFraction);
  const base: TargetProfile = {
    schemaVersion: 1,
    name: "local",
    description: `This machine: ${cpu.model === "unknown" ? cpu.architecture : cpu.model}, ${cores} cores, ${formatBytes(memory.totalMemoryBytes)} RAM`,
    os: { platform: platformNames[report.os.platform] ?? report.os.platform, ...(report.os.distro !== "unknown" ? { version: report.os.distro } : {}) },
    cpu: {
      arch: architectureOf(cpu.architecture),
      vendor: cpu.vendor,
      model: cpu.model,
      cores,
      threads: cpu.logicalThreads,
      features: cpu.features,
    },
    memoryBytes: memory.totalMemoryBytes,
    memoryBudgetBytes,
    accelerators: acceleratorsOf(report),
    preferredFormats: ["onnx"],
    preferredRuntimes: ["onnxruntime"],
    notes: [
      `memory budget = ${localMemoryBudgetFraction * 100}% of the ${formatBytes(memory.availableMemoryBytes)} available at detection (estimate)`,
      ...report.notes,
    ],
    sources: [],
    origin: "detected",
  };
  // Preferences follow the decision tree on hardware alone, LLM ranking first (the most format-sensitive).
  const ranked = [...recommendFrameworks(base, { modelKind: "llm" }), ...recommendFrameworks(base, { modelKind: "vision" })]
    .filter((entry) => entry.usable)
    .sort((a, b) => b.score - a.score)
    .map((entry) => entry.framework);
  const preferredRuntimes = [...new Set(ranked)];
  const preferredFormats = [...new Set(preferredRuntimes.map((framework) => frameworkFormats[framework]))];
  return {
    ...base,
    ...(preferredRuntimes.length > 0 ? { preferredRuntimes, preferredFormats } : {}),
  };
}
