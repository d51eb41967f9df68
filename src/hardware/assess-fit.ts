import type { ModelFormat } from "../core/artifact.js";
import { formatBytes } from "../core/units.js";
import type { ModelSummary } from "../formats/model-inspection.js";
import { ggufFootprints, mlxFootprints, onnxFootprints, type QuantizationFootprint } from "./quantization-footprints.js";
import type { TargetProfile } from "./target-profile.js";

export interface FitOption {
  /** "Q4_K_M", "int8", "4bit"… */
  quantization: string;
  format: ModelFormat;
  bitsPerWeight: number;
  estimatedWeightsBytes: number;
  /** Weights at this precision + the model's non-weight run cost (KV cache, activations, runtime). */
  estimatedRunBytes: number;
  headroomBytes: number;
  fits: boolean;
  basis: string;
}

export interface FitAssessment {
  targetName: string;
  modelPath: string;
  /** Every byte figure here is an estimate; renderers must say so. */
  isEstimate: true;
  fits: boolean;
  estimatedRunBytes: number;
  memoryBudgetBytes: number;
  /** Budget minus estimated run bytes; negative when it does not fit. */
  headroomBytes: number;
  /** Average bits per weight of the model as stored. */
  currentBitsPerWeight?: number;
  /** How the model's own estimate was formed (from its inspection). */
  method: string;
  options: FitOption[];
  /** The highest-precision option that fits, if any. */
  bestFittingQuantization?: string;
  notes: string[];
}

/** A safetensors model with a KV-cache estimate is a language model that can be converted to GGUF. */
function isLanguageModel(summary: ModelSummary): boolean {
  return summary.format === "gguf" || summary.format === "llama2c" || summary.memory.kvCacheBytes !== undefined;
}

function optionTables(summary: ModelSummary, target: TargetProfile): Array<{ format: ModelFormat; table: readonly QuantizationFootprint[] }> {
  switch (summary.format) {
    case "gguf":
    case "llama2c":
      return [{ format: "gguf", table: ggufFootprints }];
    case "onnx":
      return [{ format: "onnx", table: onnxFootprints }];
    case "mlx":
      return [{ format: "mlx", table: mlxFootprints }];
    case "safetensors": {
      if (!isLanguageModel(summary)) return [{ format: "onnx", table: onnxFootprints }];
      const tables: Array<{ format: ModelFormat; table: readonly QuantizationFootprint[] }> = [{ format: "gguf", table: ggufFootprints }];
      if (target.preferredFormats.includes("mlx")) tables.push({ format: "mlx", table: mlxFootprints });
      return tables;
    }
  }
}

/** Does the model fit the target's memory budget, and which quantizations would (estimates). */
export function assessFit(summary: ModelSummary, target: TargetProfile): FitAssessment {
  const { memory } = summary;
  const budget = target.memoryBudgetBytes;
  // Everything that does not scale with weight precision: KV cache, activations, runtime overhead.
  const nonWeightBytes = Math.max(0, memory.estimatedRunBytes - memory.weightsBytes);
  const notes: string[] = [];
  const options: FitOption[] = [];
  if (summary.parameterCount > 0) {
    for (const { format, table } of optionTables(summary, target)) {
      for (const footprint of table) {
        const estimatedWeightsBytes = Math.round((summary.parameterCount * footprint.bitsPerWeight) / 8);
        const estimatedRunBytes = estimatedWeightsBytes + nonWeightBytes;
        options.push({
          quantization: footprint.name,
          format,
          bitsPerWeight: footprint.bitsPerWeight,
          estimatedWeightsBytes,
          estimatedRunBytes,
          headroomBytes: budget - estimatedRunBytes,
          fits: estimatedRunBytes <= budget,
          basis: footprint.basis,
        });
      }
    }
  } else {
    notes.push("the parameter count is unknown, so no quantized sizes can be estimated");
  }
  const bestFitting = options.filter((option) => option.fits).sort((a, b) => b.bitsPerWeight - a.bitsPerWeight)[0];
  const fits = memory.estimatedRunBytes <= budget;
  if (!fits && bestFitting) notes.push(`does not fit as stored; ${bestFitting.quantization} (${bestFitting.format}) is the most precise option estimated to fit`);
  if (!fits && !bestFitting && options.length > 0) notes.push("no listed quantization fits the budget; a smaller model or a bigger target is needed");
  if (memory.kvCacheBytes !== undefined && memory.contextLength !== undefined) {
    notes.push(`includes a KV cache of ${formatBytes(memory.kvCacheBytes)} at ${memory.contextLength} tokens; a shorter context needs less`);
  }
  return {
    targetName: target.name,
    modelPath: summary.path,
    isEstimate: true,
    fits,
    estimatedRunBytes: memory.estimatedRunBytes,
    memoryBudgetBytes: budget,
    headroomBytes: budget - memory.estimatedRunBytes,
    ...(summary.parameterCount > 0 ? { currentBitsPerWeight: (memory.weightsBytes * 8) / summary.parameterCount } : {}),
    method: memory.method,
    options,
    ...(bestFitting ? { bestFittingQuantization: bestFitting.quantization } : {}),
    notes,
  };
}
