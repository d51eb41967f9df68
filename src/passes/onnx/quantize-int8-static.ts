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
import { applyQdq, type QdqApplyResult } from "./qdq-apply.js";
import { planQdq, type QdqPlan } from "./qdq-plan.js";

export const quantizeInt8StaticOptionsSchema = z.object({
  opTypes: z.array(z.enum(["Conv", "MatMul", "Gemm"])).default(["Conv", "MatMul", "Gemm"]).describe("ops quantized with QDQ (activations and weights)"),
  calibrationMethod: z.enum(calibrationMethods).default("minmax").describe("how activation ranges come from calibration data: minmax, percentile, or entropy (KL divergence)"),
  percentile: z.number().gt(90).lte(100).default(99.999).describe("percentile: share of values the range keeps"),
  activationType: z.enum(["uint8", "int8"]).default("uint8").describe("activation type (uint8 asymmetric is onnxruntime's U8S8 default)"),
  activationSymmetric: z.boolean().default(false).describe("symmetric activation ranges (zero point in the middle)"),
  perChannel: z.boolean().default(true).describe("one weight scale per output channel"),
  reduceRange: z.boolean().default(false).describe("7-bit weights, for CPUs without VNNI"),
  excludeNodes: excludeNodesOption,
  excludeOpTypes: excludeOpTypesOption,
  externalData: externalDataOption,
});

export type QuantizeInt8StaticOptions = z.output<typeof quantizeInt8StaticOptionsSchema>;

/** Activation ranges → scale / zero point per tensor. */
export function activationParams(ranges: ReadonlyMap<string, QuantizationRange>, options: QuantizeInt8StaticOptions): Map<string, QuantizationParams> {
  const params = new Map<string, QuantizationParams>();
  for (const [name, range] of ranges) {
    params.set(name, computeQuantizationParams(range, { type: options.activationType, symmetric: options.activationSymmetric }));
  }
  return params;
}

/** Plan the QDQ rewrite of a model, refusing one with nothing to quantize. */
export function planStatic(model: Parameters<typeof planQdq>[0], options: QuantizeInt8StaticOptions, path: string): QdqPlan {
  const plan = planQdq(model, options);
  if (plan.nodes.length === 0) {
    throw new EdgeforgeError("NOTHING_TO_DO", `${path} has no ${options.opTypes.join("/")} node in its main graph that static int8 can quantize`, {
      hint: "the model may have no such ops, hold them only inside If/Loop subgraphs (try int8-dynamic), or be quantized already",
      details: { path, skipped: plan.skips.skipped.slice(0, 20) },
    });
  }
  return plan;
}

/** Counts and notes shared by the static and auto passes. */
export function logQdq(log: PassLog, plan: QdqPlan, result: QdqApplyResult, samples: number): void {
  addCount(log, "nodesQuantized", result.quantizedNodes.length);
  addCount(log, "calibrationSamples", samples);
  addCount(log, "weightBytesBefore", result.store.floatBytes);
  addCount(log, "weightBytesAfter", result.store.quantizedBytes);
  if (result.opsetUpgraded) log.notes.push("ai.onnx opset raised from 9 to 10 (Slice/TopK attributes moved to inputs): QLinear kernels need opset 10");
  if (result.domain !== "") log.notes.push(`ai.onnx opset < 13: QuantizeLinear/DequantizeLinear use the ${result.domain} domain (per-axis support)`);
  plan.skips.writeTo(log);
}

/** Static int8 QDQ quantization with activation ranges from calibration data. */
export const quantizeInt8StaticPass: Pass<QuantizeInt8StaticOptions> = {
  id: "onnx.quantize.int8-static",
  version: "1",
  description: "QDQ int8 for activations and weights (per-channel), activation ranges calibrated on user data (minmax, percentile, entropy)",
  inputFormat: "onnx",
  outputFormat: "onnx",
  optionsSchema: quantizeInt8StaticOptionsSchema,
  searchSpace: { calibrationMethod: ["minmax", "percentile", "entropy"], perChannel: [true, false], activationSymmetric: [false, true] },
  defaultOutputName: (inputPath) => suffixedOutputName(inputPath, "_int8"),
  async run(input: Artifact, outputPath: string, options: QuantizeInt8StaticOptions, context: PassContext): Promise<PassResult> {
    const start = process.hrtime.bigint();
    const inputFile = await readPassInput(input, outputPath, context);
    const model = inputFile.model;
    const plan = planStatic(model, options, input.path);
    const { ranges, samples } = await calibrateRanges(model, plan.tensors, { method: options.calibrationMethod, percentile: options.percentile, symmetric: options.activationSymmetric }, context);
    const result = applyQdq(model, plan, activationParams(ranges, options), { ...options, path: input.path }, new Set());
    removeUnusedConstants(model);
    const log = emptyLog();
    logQdq(log, plan, result, samples);
    const artifact = await writePassOutput(model, outputPath, {
      input, inputFile, passId: quantizeInt8StaticPass.id, passVersion: quantizeInt8StaticPass.version, options, externalData: options.externalData, context,
    });
    return passResult(artifact, log, start);
  },
};
