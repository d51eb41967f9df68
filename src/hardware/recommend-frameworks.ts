import { frameworkPackages, type RuntimeAvailability } from "./runtime-availability.js";
import { frameworks, type Framework, type TargetProfile } from "./target-profile.js";

export const modelKinds = ["llm", "vision", "audio", "other"] as const;
export type ModelKind = (typeof modelKinds)[number];

export interface RankedFramework {
  framework: Framework;
  /** 0–100 after accounting for what is installed and working; higher is better. */
  score: number;
  /** The score the hardware rules alone give, before installation is considered. */
  ruleScore: number;
  reasons: string[];
  usable: boolean;
  unusableReason?: string;
}

export interface RecommendFrameworksOptions {
  modelKind: ModelKind;
  /** What is installed (and, for the local machine, which backends work). Omit to rank on hardware alone. */
  availableRuntimes?: readonly RuntimeAvailability[];
}

/** The facts of a target that the rules branch on. */
export interface TargetTraits {
  appleSilicon: boolean;
  intel: boolean;
  intelNpu: boolean;
  nvidiaGpu: boolean;
  /** ARM boards and phones other than Apple's. */
  otherArm: boolean;
  platform: string;
}

export function describeTargetTraits(target: TargetProfile): TargetTraits {
  const accelerators = target.accelerators;
  const isArm = target.cpu.arch === "arm64" || target.cpu.arch === "arm";
  const appleSilicon = isArm && (target.cpu.vendor === "apple" || target.os.platform === "ios");
  return {
    appleSilicon,
    intel: target.cpu.vendor === "intel" || accelerators.some((accelerator) => accelerator.vendor === "intel"),
    intelNpu: accelerators.some((accelerator) => accelerator.kind === "npu" && accelerator.vendor === "intel"),
    nvidiaGpu: accelerators.some((accelerator) => accelerator.kind === "gpu" && accelerator.vendor === "nvidia"),
    otherArm: isArm && !appleSilicon,
    platform: target.os.platform,
  };
}

interface RuleResult {
  score: number;
  reasons: string[];
  /** The framework cannot run on this target at all, whatever is installed. */
  impossible?: string;
}

function openvinoRule(traits: TargetTraits): RuleResult {
  if (traits.platform === "ios" || traits.platform === "android") return { score: 0, reasons: [], impossible: "OpenVINO does not ship for iOS or Android apps" };
  if (traits.intel && traits.nvidiaGpu) {
    return { score: 70, reasons: ["Intel CPU, but the NVIDIA GPU is better served through CUDA/TensorRT; OpenVINO would use the CPU"] };
  }
  if (traits.intel) {
    const devices = traits.intelNpu ? "CPU, integrated GPU and NPU (through its NPU plugin)" : "CPU (AVX-512/AMX/VNNI kernels through oneDNN)";
    return { score: 100, reasons: [`Intel hardware: OpenVINO is Intel's optimized runtime for the ${devices}`] };
  }
  if (traits.appleSilicon || traits.otherArm) return { score: 30, reasons: ["OpenVINO's ARM CPU plugin runs here but is not the fastest path"] };
  return { score: 55, reasons: ["OpenVINO runs on any x86-64 CPU with AVX2, though it is tuned for Intel"] };
}

function mlxRule(traits: TargetTraits, modelKind: ModelKind): RuleResult {
  if (!traits.appleSilicon) return { score: 0, reasons: [], impossible: "MLX runs only on Apple silicon (macOS/iOS)" };
  return {
    score: 100,
    reasons: [
      modelKind === "llm"
        ? "Apple silicon: MLX runs LLMs on the GPU through Metal with unified memory, and mlx-lm quantizes to 4/8 bits"
        : "Apple silicon: MLX uses the GPU through Metal with unified memory",
    ],
  };
}

function llamaCppRule(traits: TargetTraits, modelKind: ModelKind): RuleResult {
  if (modelKind !== "llm") return { score: 0, reasons: [], impossible: `llama.cpp runs GGUF language models, not ${modelKind} models` };
  // An NVIDIA GPU outranks the ARM-board rule (Jetson): the GPU is where the work should go.
  if (traits.nvidiaGpu) return { score: 90, reasons: ["NVIDIA GPU: llama.cpp's CUDA backend offloads GGUF layers to the GPU"] };
  if (traits.otherArm) return { score: 100, reasons: ["ARM board or phone: llama.cpp is the portable LLM runtime, with NEON dot-product/i8mm kernels and GGUF k-quants"] };
  if (traits.appleSilicon) return { score: 95, reasons: ["Apple silicon: llama.cpp's Metal backend runs GGUF LLMs on the GPU"] };
  if (traits.intel) return { score: 80, reasons: ["llama.cpp's AVX2/AVX-512 CPU kernels run GGUF LLMs on any x86-64 machine"] };
  return { score: 95, reasons: ["Generic x86-64 CPU: llama.cpp's CPU kernels and GGUF k-quants are the portable LLM path"] };
}

function onnxruntimeRule(traits: TargetTraits, modelKind: ModelKind): RuleResult {
  const isLlm = modelKind === "llm";
  if (traits.nvidiaGpu) return { score: 100, reasons: ["NVIDIA GPU: ONNX Runtime with the CUDA/TensorRT execution providers, optimized Olive-style"] };
  if (traits.appleSilicon) return { score: isLlm ? 60 : 75, reasons: ["ONNX Runtime reaches the GPU and Neural Engine through its CoreML execution provider"] };
  if (traits.otherArm) {
    return { score: isLlm ? 70 : 95, reasons: ["ONNX Runtime is the cross-platform runtime for ARM (CPU kernels, XNNPACK, NNAPI/QNN on phones)"] };
  }
  if (traits.intel) return { score: isLlm ? 75 : 85, reasons: ["ONNX Runtime's CPU execution provider (or its OpenVINO EP) runs ONNX models on Intel CPUs"] };
  return { score: isLlm ? 80 : 100, reasons: ["Generic/enterprise machine: ONNX Runtime is the portable default, optimized Olive-style"] };
}

function ruleFor(framework: Framework, traits: TargetTraits, modelKind: ModelKind): RuleResult {
  switch (framework) {
    case "openvino":
      return openvinoRule(traits);
    case "mlx":
      return mlxRule(traits, modelKind);
    case "llama.cpp":
      return llamaCppRule(traits, modelKind);
    case "onnxruntime":
      return onnxruntimeRule(traits, modelKind);
  }
}

/** The accelerated backends a framework should have working on this target, for the "installed but CPU-only" penalty. */
function expectedAcceleratedBackends(framework: Framework, traits: TargetTraits): string[] {
  if (traits.nvidiaGpu && framework === "onnxruntime") return ["cuda", "tensorrt"];
  if (traits.nvidiaGpu && framework === "llama.cpp") return ["cuda", "vulkan"];
  if (traits.appleSilicon && framework === "llama.cpp") return ["metal"];
  return [];
}

const notInstalledFactor = 0.5;
const cpuOnlyPenalty = 25;

/**
 * Rank the four frameworks for a target and model kind. Hardware rules come first (Intel → OpenVINO,
 * Apple silicon → MLX and llama.cpp/Metal, ARM boards → llama.cpp for LLMs, NVIDIA/generic → ONNX
 * Runtime); then what is installed and working lowers (never hides) a framework.
 */
export function recommendFrameworks(target: TargetProfile, options: RecommendFrameworksOptions): RankedFramework[] {
  const traits = describeTargetTraits(target);
  const rules = frameworks.map((framework) => ({ framework, rule: ruleFor(framework, traits, options.modelKind) }));
  const bestRuleScore = Math.max(...rules.filter(({ rule }) => !rule.impossible).map(({ rule }) => rule.score));

  const ranked = rules.map(({ framework, rule }): RankedFramework => {
    if (rule.impossible) return { framework, score: 0, ruleScore: 0, reasons: [], usable: false, unusableReason: rule.impossible };
    const reasons = [...rule.reasons];
    let score = rule.score;
    let unusableReason: string | undefined;
    const availability = options.availableRuntimes?.find((runtime) => runtime.framework === framework);
    const { packageName, installHint } = frameworkPackages[framework];
    if (options.availableRuntimes && !availability?.installed) {
      unusableReason = `${packageName} not installed`;
      score = Math.round(score * notInstalledFactor);
      if (rule.score === bestRuleScore) reasons.push(`best choice for this target once installed (${installHint})`);
    } else if (availability?.workingBackends?.length === 0) {
      unusableReason = `${packageName} is installed but ran nothing here: ${availability.reason ?? "no backend works"}`;
      score = Math.round(score * notInstalledFactor);
    } else if (availability?.workingBackends) {
      const expected = expectedAcceleratedBackends(framework, traits);
      if (expected.length > 0 && !expected.some((backend) => availability.workingBackends?.includes(backend))) {
        score -= cpuOnlyPenalty;
        reasons.push(`its ${expected.join("/")} backend does not work here, so it would run on the CPU only`);
      }
    }
    return { framework, score, ruleScore: rule.score, reasons, usable: unusableReason === undefined, ...(unusableReason ? { unusableReason } : {}) };
  });

  return ranked.sort(
    (a, b) => b.score - a.score || Number(b.usable) - Number(a.usable) || frameworks.indexOf(a.framework) - frameworks.indexOf(b.framework),
  );
}
