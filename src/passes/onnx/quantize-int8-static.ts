import type { ModelProto } from "onnx-buf";
import { z } from "zod";
import type { Artifact } from "../../core/artifact.js";
import { EdgeforgeError } from "../../core/errors.js";
import { computeQuantizationParams, type QuantizationParams, type QuantizationRange } from "../../kernels/linear-quantization.js";
import { calibrationMethods } from "../../kernels/range-collector.js";
import type { Pass, PassContext, PassLog, PassResult } from "../pass.js";
import { calibrateRanges } from "./calibrate-ranges.js";
import { excludeNodesOption, excludeOpTypesOption, externalDataOption, suffixedOutputName } from "./common-options.js";
import { removeUnusedConstants } from "./graph-edit.js";
import { addCount, emptyLog, passResult, readPassInput, writePassOutput } from "./onnx-pass-io.js";
import { describeFloatIslands } from "./float-islands.js";
import { NameAllocator } from "./graph-edit.js";
import { detectInt8Format } from "./int8-format.js";
import { applyQdq, type QdqApplyResult } from "./qdq-apply.js";
import { defaultQdqOpTypes, planQdq, qdqOpTypes, type QdqOpType, type QdqPlan } from "./qdq-plan.js";
import { prepareForQdq, type PrepareCounts } from "./qdq-prepare.js";

export const quantizeInt8StaticOptionsSchema = z.object({
  opTypes: z
    .array(z.enum(qdqOpTypes as [QdqOpType, ...QdqOpType[]]))
    .default(defaultQdqOpTypes)
    .describe("ops quantized with QDQ: weighted (Conv, ConvTranspose, MatMul, Gemm), elementwise (Add, Mul, Concat), own range (pooling, Sigmoid, LeakyRelu, Softmax), data movement sharing its input's scale (Reshape, Transpose, Resize, MaxPool…)"),
  foldActivations: z.boolean().default(true).describe("fold Relu/Clip into the preceding quantized output's range (asymmetric activations only)"),
  calibrationMethod: z.enum(calibrationMethods).default("minmax").describe("how activation ranges come from calibration data: minmax, percentile, or entropy (KL divergence)"),
  percentile: z.number().gt(90).lte(100).default(99.999).describe("percentile: share of values the range keeps"),
  activationType: z.enum(["auto", "uint8", "int8"]).default("auto").describe("activation type; auto: uint8 (U8S8) on x86, int8 (S8S8) on ARM, from the detected CPU"),
  activationSymmetric: z.boolean().default(false).describe("symmetric activation ranges (zero point in the middle)"),
  perChannel: z.boolean().default(true).describe("one weight scale per output channel"),
  reduceRange: z.union([z.boolean(), z.literal("auto")]).default("auto").describe("7-bit weights, for x86 CPUs without VNNI; auto: from the detected CPU"),
  excludeNodes: excludeNodesOption,
  excludeOpTypes: excludeOpTypesOption,
  externalData: externalDataOption,
});

export type QuantizeInt8StaticOptions = z.output<typeof quantizeInt8StaticOptionsSchema>;

/** The options with the int8 format settled (auto resolved for the CPU this runs on). */
export type ResolvedStaticOptions = Omit<QuantizeInt8StaticOptions, "activationType" | "reduceRange"> & { activationType: "uint8" | "int8"; reduceRange: boolean };

/** Settle `auto` activation type / reduce range from the detected CPU, noting the choice. */
export async function resolveInt8Format(options: QuantizeInt8StaticOptions, log: PassLog, signal?: AbortSignal): Promise<ResolvedStaticOptions> {
  if (options.activationType !== "auto" && options.reduceRange !== "auto") return { ...options, activationType: options.activationType, reduceRange: options.reduceRange };
  const format = await detectInt8Format(signal);
  log.notes.push(`int8 format: ${format.reason}`);
  return {
    ...options,
    activationType: options.activationType === "auto" ? format.activationType : options.activationType,
    reduceRange: options.reduceRange === "auto" ? format.reduceRange : options.reduceRange,
  };
}

/** Activation ranges → scale / zero point per tensor. */
export function activationParams(ranges: ReadonlyMap<string, QuantizationRange>, options: ResolvedStaticOptions): Map<string, QuantizationParams> {
  const params = new Map<string, QuantizationParams>();
  for (const [name, range] of ranges) {
    params.set(name, computeQuantizationParams(range, { type: options.activationType, symmetric: options.activationSymmetric }));
  }
  return params;
}

/**
 * Prepare the float graph (per-channel affines folded into Convs, Div by constants as Mul) and plan the QDQ
 * rewrite, refusing a model with nothing to quantize. Deterministic: the auto pass re-plans fresh
 * copies and matches nodes by id.
 */
export function planStatic(model: ModelProto, options: ResolvedStaticOptions, path: string): { plan: QdqPlan; prepared: PrepareCounts } {
  const prepared = prepareForQdq(model, new NameAllocator(model));
  const plan = planPrepared(model, options);
  if (plan.nodes.every((n) => n.kind === "shared")) {
    throw new EdgeforgeError("NOTHING_TO_DO", `${path} has no node in its main graph that static int8 can quantize (ops tried: ${options.opTypes.join(", ")})`, {
      hint: "the model may have no such ops, hold them only inside If/Loop subgraphs (try int8-dynamic), or be quantized already",
      details: { path, skipped: plan.skips.skipped.slice(0, 20) },
    });
  }
  return { plan, prepared };
}

/** Plan the QDQ rewrite of a graph planStatic has already prepared (the auto pass plans copies of it). */
export function planPrepared(model: ModelProto, options: ResolvedStaticOptions): QdqPlan {
  return planQdq(model, { ...options, foldActivations: options.foldActivations && !options.activationSymmetric });
}

/** Counts and notes shared by the static and auto passes. */
export function logQdq(log: PassLog, model: ModelProto, planned: ReturnType<typeof planStatic>, result: QdqApplyResult, samples: number): void {
  const { plan, prepared } = planned;
  addCount(log, "nodesQuantized", result.quantizedNodes.length);
  addCount(log, "calibrationSamples", samples);
  addCount(log, "weightBytesBefore", result.store.floatBytes);
  addCount(log, "weightBytesAfter", result.store.quantizedBytes);
  addCount(log, "activationsFolded", result.activationsFolded);
  addCount(log, "tensorsQuantized", result.quantizedTensors);
  if (prepared.affinesFolded > 0) log.notes.push(`${prepared.affinesFolded} BatchNormalization or Mul/Add-by-constant node(s) folded into the preceding Conv's weights and bias before quantization`);
  if (prepared.divisionsToProducts > 0) log.notes.push(`${prepared.divisionsToProducts} Div by a constant rewritten as Mul by its reciprocal (Mul has an int8 kernel)`);
  if (result.activationsFolded > 0) log.notes.push(`${result.activationsFolded} Relu/Clip folded into the preceding quantized output range`);
  if (result.opsetUpgradedFrom !== undefined) log.notes.push(`ai.onnx opset raised from ${result.opsetUpgradedFrom} to 10: QuantizeLinear and the QLinear kernels need opset 10`);
  if (result.domain !== "") log.notes.push(`ai.onnx opset < 13: QuantizeLinear/DequantizeLinear use the ${result.domain} domain (per-axis support)`);
  describeFloatIslands(model, log);
  plan.skips.writeTo(log);
}

/** Static int8 QDQ quantization with activation ranges from calibration data. */
export const quantizeInt8StaticPass: Pass<QuantizeInt8StaticOptions> = {
  id: "onnx.quantize.int8-static",
  version: "2",
  description: "QDQ int8 for activations and weights (per-channel), activation ranges calibrated on user data (minmax, percentile, entropy)",
  inputFormat: "onnx",
  outputFormat: "onnx",
  optionsSchema: quantizeInt8StaticOptionsSchema,
  searchSpace: { calibrationMethod: ["minmax", "percentile", "entropy"], perChannel: [true, false], activationSymmetric: [false, true] },
  defaultOutputName: (inputPath) => suffixedOutputName(inputPath, "_int8"),
  async run(input: Artifact, outputPath: string, options: QuantizeInt8StaticOptions, context: PassContext): Promise<PassResult> {
    const start = process.hrtime.bigint();
    const inputFile = await readPassInput(input, outputPath, context, { liftFloat16: true });
    const model = inputFile.model;
    const log = emptyLog(inputFile.notes);
    const resolved = await resolveInt8Format(options, log, context.signal);
    const planned = planStatic(model, resolved, input.path);
    const { ranges, samples } = await calibrateRanges(model, planned.plan.tensors, { method: options.calibrationMethod, percentile: options.percentile, symmetric: options.activationSymmetric }, context);
    const result = applyQdq(model, planned.plan, activationParams(ranges, resolved), { ...resolved, path: input.path }, new Set());
    removeUnusedConstants(model);
    logQdq(log, model, planned, result, samples);
    const artifact = await writePassOutput(model, outputPath, {
      input, inputFile, passId: quantizeInt8StaticPass.id, passVersion: quantizeInt8StaticPass.version, options, externalData: options.externalData, context, log: log,
    });
    return passResult(artifact, log, start);
  },
};
