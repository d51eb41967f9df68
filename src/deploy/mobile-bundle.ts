import { EdgeforgeError } from "../core/errors.js";
import { inspectGguf } from "../formats/gguf/inspect-gguf.js";
import { inspectOnnx } from "../formats/onnx/inspect-onnx.js";
import { inspectSafetensors } from "../formats/safetensors/inspect-safetensors.js";
import { ggufFootprints, mlxFootprints, onnxFootprints, type QuantizationFootprint } from "../hardware/quantization-footprints.js";
import type { TargetProfile } from "../hardware/target-profile.js";
import { measuredPeakRssBytes, type CertificationFacts } from "./certification-facts.js";
import { onnxQuantizationOf, requiredOnnxOperators, type OnnxOperatorSet } from "./onnx-operator-config.js";
import type { ArtifactInput } from "./read-package-input.js";
import { llamaCppArm64LibraryBytes, onnxRuntimeArm64LibraryBytes, type RuntimeLibrarySize } from "./runtime-library-size.js";

export const mobilePlatforms = ["android", "ios", "bundle"] as const;
export type MobilePlatform = (typeof mobilePlatforms)[number];

/** The workflow's mobile configurations (docs/package.md): sizes in decimal megabytes, as app stores count them. */
export const mobileConfigurations = {
  android: { format: "gguf", runtime: "llama.cpp", quantization: "Q4_K_M", budgetBytes: 100_000_000, budgetName: "APK budget", defaultDevice: "android-snapdragon-8-gen-3" },
  ios: { format: "mlx", runtime: "MLX", quantization: "int4", budgetBytes: 50_000_000, budgetName: "app bundle budget", defaultDevice: "iphone-15-pro" },
  bundle: { format: "onnx", runtime: "ONNX Runtime", quantization: "int8", budgetBytes: undefined, budgetName: "bundle budget", defaultDevice: undefined },
} as const satisfies Record<MobilePlatform, { format: string; runtime: string; quantization: string; budgetBytes: number | undefined; budgetName: string; defaultDevice: string | undefined }>;

export interface BundleCheck {
  name: string;
  required: boolean;
  passed: boolean;
  detail: string;
}

export interface MobileBundleManifest {
  schemaVersion: 1;
  kind: "edgeforge.mobile-bundle";
  platform: MobilePlatform;
  model: { name: string; format: string; sha256: string; files: Array<{ path: string; sha256: string; sizeBytes: number }>; parameterCount: number; quantization: string; quantizationSource: string };
  runtime: { name: string; certifiedWith?: string; settings: Record<string, unknown> };
  memory: {
    expectedRunBytes: number;
    expectedRunKind: "estimate";
    expectedRunMethod: string;
    /** What certify measured: its process with the model loaded, under load, on the certifying machine. */
    measuredPeakRssBytes?: number;
    measuredOn?: string;
    deviceBudgetBytes?: number;
    device?: string;
  };
  size: { modelBytes: number; modelKind: "measured"; runtimeLibraryBytes?: number; runtimeLibraryKind?: "estimate"; runtimeLibraryMethod: string; totalBytes: number; budgetBytes?: number; budgetSource: string };
  onnxOperators?: OnnxOperatorSet[];
  checks: BundleCheck[];
}

export interface MobileBundleOptions {
  platform: MobilePlatform;
  budgetBytes?: number;
  device?: TargetProfile;
  threads?: number;
  contextLength?: number;
  signal?: AbortSignal;
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
const exact = (bytes: number): string => `${bytes.toLocaleString("en-US")} B`;

interface ModelFacts {
  parameterCount: number;
  quantization: string;
  quantizationSource: string;
  runtime: string;
  runtimeSettings: Record<string, unknown>;
  expectedRunBytes: number;
  expectedRunMethod: string;
  library: RuntimeLibrarySize | undefined;
  footprints: readonly QuantizationFootprint[];
  onnxOperators?: OnnxOperatorSet[];
}

async function readModelFacts(input: ArtifactInput, options: MobileBundleOptions, threads: number): Promise<ModelFacts> {
  const path = input.artifactPath;
  const signal = options.signal;
  if (input.format === "gguf") {
    const gguf = await inspectGguf(path, { ...(options.contextLength ? { contextLength: options.contextLength } : {}), ...(signal ? { signal } : {}) });
    const contextLength = gguf.memory.contextLength ?? gguf.hyperParameters.contextLength;
    return {
      parameterCount: gguf.parameterCount,
      quantization: gguf.fileType?.name ?? gguf.byDtype[0]?.dtype ?? "unknown",
      quantizationSource: gguf.fileType ? "general.file_type in the GGUF header" : "the largest tensor type (no general.file_type)",
      runtime: "llama.cpp",
      runtimeSettings: { useMmap: true, useMlock: false, threads, contextLength, batchSize: Math.min(512, contextLength ?? 512), flashAttention: "auto", gpuLayers: 0 },
      expectedRunBytes: gguf.memory.estimatedRunBytes,
      expectedRunMethod: `${gguf.memory.method}; weights are memory-mapped, so they count as file-backed pages the OS may evict`,
      library: await llamaCppArm64LibraryBytes(),
      footprints: ggufFootprints,
    };
  }
  if (input.format === "mlx") {
    const mlx = await inspectSafetensors(path, signal ? { signal } : {});
    const bits = typeof mlx.quantization?.bits === "number" ? mlx.quantization.bits : undefined;
    return {
      parameterCount: mlx.parameterCount,
      quantization: bits === undefined ? "unquantized" : `int${bits}`,
      quantizationSource: "quantization.bits in config.json",
      runtime: "MLX",
      runtimeSettings: { loader: "mlx-swift-examples LLMModelFactory (the folder as shipped: config.json, *.safetensors, tokenizer files)", lazyLoading: true, threads: "MLX runs on the GPU (Metal); threads do not apply", groupSize: mlx.quantization?.group_size },
      expectedRunBytes: mlx.memory.estimatedRunBytes,
      expectedRunMethod: mlx.memory.method,
      library: undefined,
      footprints: mlxFootprints,
    };
  }
  if (input.format === "onnx") {
    const onnx = await inspectOnnx(path, signal ? { signal } : {});
    return {
      parameterCount: onnx.parameterCount,
      quantization: onnxQuantizationOf(onnx),
      quantizationSource: "the graph's operators (QuantizeLinear/DequantizeLinear, integer kernels, MatMulNBits)",
      runtime: "ONNX Runtime",
      runtimeSettings: { executionProviders: ["cpu"], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: "all", useMmap: "ORT format (.ort) models load memory-mapped; convert with onnxruntime.tools.convert_onnx_models_to_ort", reducedOperatorConfig: "required_operators.config" },
      expectedRunBytes: onnx.memory.estimatedRunBytes,
      expectedRunMethod: onnx.memory.method,
      library: await onnxRuntimeArm64LibraryBytes(),
      footprints: onnxFootprints,
      onnxOperators: requiredOnnxOperators(onnx),
    };
  }
  throw new EdgeforgeError("UNSUPPORTED_FEATURE", `${input.artifactName} is ${input.format}; mobile bundles take GGUF (llama.cpp), MLX folders or ONNX (ONNX Runtime)`, {
    hint: "convert the model first: edgeforge convert … --to gguf|mlx, or export ONNX",
    details: { format: input.format },
  });
}

/**
 * The mobile bundle manifest and its checks: size against the platform's budget (model measured,
 * runtime libraries estimated), expected RAM against the device's memory budget (estimate), and the
 * workflow's configuration (format, runtime, quantization) as advice. Throws BUDGET_EXCEEDED with
 * every number when a required check fails. Needs the artifact only, so a model that cannot fit
 * fails before anyone certifies it; `withCertification` adds what certify measured.
 */
export async function buildMobileBundle(input: ArtifactInput, options: MobileBundleOptions): Promise<MobileBundleManifest> {
  const config = mobileConfigurations[options.platform];
  if (options.platform !== "ios" && input.format === "mlx") {
    throw new EdgeforgeError("INVALID_OPTION", `--target ${options.platform} cannot run an MLX folder: MLX runs only on Apple silicon`, { hint: "use --target ios for MLX, or package a GGUF (llama.cpp) or ONNX model" });
  }
  const threads = options.threads ?? (options.device ? Math.max(1, Math.floor(options.device.cpu.cores / 2)) : 4);
  const facts = await readModelFacts(input, options, threads);
  const modelBytes = input.contents.sizeBytes;
  const libraryBytes = facts.library?.bytes ?? 0;
  const totalBytes = modelBytes + libraryBytes;
  const budgetBytes = options.budgetBytes ?? config.budgetBytes;
  const budgetSource = options.budgetBytes !== undefined ? "--budget" : config.budgetBytes !== undefined ? `the workflow's ${options.platform} ${config.budgetName}` : "none (pass --budget SIZE)";
  const libraryText = facts.library ? `${facts.runtime} arm64 libraries ${exact(libraryBytes)} (estimate)` : `${facts.runtime} libraries not counted (no size known here)`;
  const checks: BundleCheck[] = [];
  if (budgetBytes !== undefined) {
    checks.push({ name: `size within the ${config.budgetName}`, required: true, passed: totalBytes <= budgetBytes, detail: `model ${exact(modelBytes)} (${facts.quantization}, measured) + ${libraryText} = ${exact(totalBytes)} (${mb(totalBytes)}) vs ${exact(budgetBytes)} (${mb(budgetBytes)}, ${budgetSource})` });
  }
  if (options.device) {
    checks.push({ name: `RAM within ${options.device.name}'s memory budget`, required: true, passed: facts.expectedRunBytes <= options.device.memoryBudgetBytes, detail: `expected ${exact(facts.expectedRunBytes)} (${facts.expectedRunMethod}) vs ${exact(options.device.memoryBudgetBytes)} budget for one model on ${options.device.name}` });
  }
  // The platform's row is for language models; an ONNX model (vision, audio…) is held to the ONNX row, as llama.cpp and MLX cannot run it.
  const [advisedName, advised] = input.format === "onnx" ? (["ONNX", mobileConfigurations.bundle] as const) : ([options.platform, config] as const);
  const matchesFormat = input.format === advised.format;
  const matchesQuantization = facts.quantization.toUpperCase() === advised.quantization.toUpperCase();
  checks.push({ name: `the workflow's ${advisedName} configuration (${advised.runtime}, ${advised.quantization})`, required: false, passed: matchesFormat && matchesQuantization, detail: `this package: ${facts.runtime}, ${facts.quantization}` });

  const manifest: MobileBundleManifest = {
    schemaVersion: 1,
    kind: "edgeforge.mobile-bundle",
    platform: options.platform,
    model: {
      name: input.artifactName,
      format: input.format,
      sha256: input.contents.digest,
      files: input.contents.files.map((f) => ({ path: f.name === "." ? `model/${input.artifactName}` : `model/${input.artifactName}/${f.name}`, sha256: f.sha256, sizeBytes: f.sizeBytes })),
      parameterCount: facts.parameterCount,
      quantization: facts.quantization,
      quantizationSource: facts.quantizationSource,
    },
    runtime: { name: facts.runtime, settings: facts.runtimeSettings },
    memory: {
      expectedRunBytes: facts.expectedRunBytes,
      expectedRunKind: "estimate",
      expectedRunMethod: facts.expectedRunMethod,
      ...(options.device ? { deviceBudgetBytes: options.device.memoryBudgetBytes, device: options.device.name } : {}),
    },
    size: {
      modelBytes,
      modelKind: "measured",
      ...(facts.library ? { runtimeLibraryBytes: libraryBytes, runtimeLibraryKind: "estimate" as const } : {}),
      runtimeLibraryMethod: facts.library?.method ?? "not counted: no size for this runtime is known here",
      totalBytes,
      ...(budgetBytes !== undefined ? { budgetBytes } : {}),
      budgetSource,
    },
    ...(facts.onnxOperators ? { onnxOperators: facts.onnxOperators } : {}),
    checks,
  };
  const failed = checks.filter((c) => c.required && !c.passed);
  if (failed.length > 0) {
    // the workflow's own quantization when it fits, else the most precise one that does
    const fits = budgetBytes === undefined ? [] : facts.footprints.filter((f) => (facts.parameterCount * f.bitsPerWeight) / 8 + libraryBytes <= budgetBytes);
    const fitting = fits.find((f) => f.name.toUpperCase() === config.quantization.toUpperCase()) ?? [...fits].sort((a, b) => b.bitsPerWeight - a.bitsPerWeight)[0];
    const suggestion = fitting
      ? `${fitting.name} would be about ${mb((facts.parameterCount * fitting.bitsPerWeight) / 8)} for ${facts.parameterCount.toLocaleString("en-US")} parameters (estimate: ${fitting.bitsPerWeight} bits/weight, ${fitting.basis})`
      : "no quantization in the workflow's table fits: choose a smaller model";
    throw new EdgeforgeError("BUDGET_EXCEEDED", `${options.platform} package of ${input.artifactName} fails ${failed.length} budget check(s): ${failed.map((c) => `${c.name}: ${c.detail}`).join("; ")}`, {
      hint: `${suggestion}${input.format === "gguf" && fitting ? ` — edgeforge quantize ${input.artifactName} --method ${fitting.name}` : ""}; or raise the budget with --budget SIZE`,
      details: { checks, modelBytes, runtimeLibraryBytes: libraryBytes, totalBytes, budgetBytes, expectedRunBytes: facts.expectedRunBytes, suggestion },
    });
  }
  return manifest;
}

/** What certify measured and ran, added to a bundle that passed its budgets. */
export function withCertification(manifest: MobileBundleManifest, certification: CertificationFacts): MobileBundleManifest {
  const runtime = `${certification.compliance.runtime} ${certification.compliance.runtimeVersion}`;
  return {
    ...manifest,
    runtime: { ...manifest.runtime, certifiedWith: runtime },
    memory: {
      ...manifest.memory,
      measuredPeakRssBytes: measuredPeakRssBytes(certification),
      measuredOn: `certify's stress sweep on ${certification.machine.cpu} (${certification.validatedAt}): the whole certifying process (Node.js + runtime + model), not the phone`,
    },
    checks: [...manifest.checks, { name: "loaded and run by the runtime during certification", required: false, passed: true, detail: `${runtime} on ${certification.machine.cpu} (${certification.validatedAt})` }],
  };
}
