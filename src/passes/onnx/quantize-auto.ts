import { join } from "node:path";
import { z } from "zod";
import type { Artifact } from "../../core/artifact.js";
import { EdgeforgeError } from "../../core/errors.js";
import { readOnnxModel } from "../../formats/onnx/read-onnx.js";
import { writeOnnxModel } from "../../formats/onnx/write-onnx.js";
import type { Pass, PassContext, PassResult } from "../pass.js";
import { dropMetrics, measureCandidate, measureReference, scoreDrop, type Reference } from "./accuracy-drop.js";
import { removeModelFiles, requireInference } from "./activation-capture.js";
import { calibrateRanges } from "./calibrate-ranges.js";
import { suffixedOutputName } from "./common-options.js";
import { removeUnusedConstants } from "./graph-edit.js";
import { measureSensitivity, type NodeSensitivity } from "./node-sensitivity.js";
import { addCount, emptyLog, passResult, readPassInput, writePassOutput } from "./onnx-pass-io.js";
import { applyQdq, type QdqApplyResult } from "./qdq-apply.js";
import type { QdqPlan } from "./qdq-plan.js";
import { activationParams, logQdq, planStatic, quantizeInt8StaticOptionsSchema, type QuantizeInt8StaticOptions } from "./quantize-int8-static.js";
import type { QuantizationParams } from "../../kernels/linear-quantization.js";

export const quantizeAutoOptionsSchema = quantizeInt8StaticOptionsSchema.extend({
  maxDrop: z.number().min(0).default(0.01).describe("largest acceptable drop of the metric against the float model"),
  dropKind: z.enum(["absolute", "relative"]).default("absolute").describe("absolute: score points (0.01 = 1 point); relative: share of the float score"),
  metric: z
    .enum(dropMetrics)
    .default("auto")
    .describe("accuracy (top-1 against labels), top1-agreement or cosine (against the float model's outputs); auto: accuracy when every sample is labelled, else cosine"),
  maxEvaluations: z.number().int().min(2).max(64).default(12).describe("candidate models measured at most (each runs the evaluation data once)"),
});

export type QuantizeAutoOptions = z.output<typeof quantizeAutoOptionsSchema>;

interface Trial {
  keepFloat: string[];
  drop: number;
  score: number;
}

/**
 * Accuracy-aware mixed precision: quantize everything (static QDQ), measure the drop on the
 * evaluation data, rank nodes by their own error contribution, and return nodes to float32 —
 * worst first, in growing batches — until the drop is within maxDrop.
 */
export const quantizeAutoPass: Pass<QuantizeAutoOptions> = {
  id: "onnx.quantize.auto",
  version: "1",
  description: "int8 QDQ with accuracy-aware fallback: the most sensitive nodes return to float32 until the drop is within maxDrop",
  inputFormat: "onnx",
  outputFormat: "onnx",
  optionsSchema: quantizeAutoOptionsSchema,
  searchSpace: { maxDrop: [0.005, 0.01, 0.02] },
  defaultOutputName: (inputPath) => suffixedOutputName(inputPath, "_int8"),
  async run(input: Artifact, outputPath: string, options: QuantizeAutoOptions, context: PassContext): Promise<PassResult> {
    const start = process.hrtime.bigint();
    const inputFile = await readPassInput(input, outputPath, context);
    const evaluation = context.evaluationData ?? context.calibrationData;
    requireInference(context.calibrationData, context, "calibration");
    requireInference(evaluation, context, "evaluation");
    const log = emptyLog();
    if (!context.evaluationData) log.notes.push("no separate evaluation data: the drop was measured on the calibration data");
    const plan = planStatic(inputFile.model, options, input.path);
    const { ranges, samples } = await calibrateRanges(inputFile.model, plan.tensors, { method: options.calibrationMethod, percentile: options.percentile, symmetric: options.activationSymmetric }, context);
    const params = activationParams(ranges, options);
    const reference = await measureReference(input.path, evaluation, options.metric, context);
    const tryCandidate = async (keepFloat: string[]): Promise<{ trial: Trial; path: string; result: QdqApplyResult }> => {
      const built = await buildCandidate(input.path, plan, params, options, keepFloat, context);
      const score = await measureCandidate(built.path, reference, context);
      return { trial: { keepFloat, score, drop: scoreDrop(reference, score, options.dropKind) }, path: built.path, result: built.result };
    };

    const trials: Trial[] = [];
    const first = await tryCandidate([]);
    trials.push(first.trial);
    let best = first;
    let ranking: NodeSensitivity[] = [];
    if (first.trial.drop > options.maxDrop) {
      ranking = await measureSensitivity(inputFile.model, plan, params, reference, options, context);
      let reverted = 0;
      // Never revert every node: that candidate would be the float model. Steps grow by half (1, 2, 3, 4, 6, 9…).
      while (best.trial.drop > options.maxDrop && reverted < ranking.length - 1 && trials.length < options.maxEvaluations) {
        reverted = Math.min(ranking.length - 1, reverted + Math.max(1, Math.floor(reverted / 2)));
        const next = await tryCandidate(ranking.slice(0, reverted).map((r) => r.id));
        trials.push(next.trial);
        await removeModelFiles(best.path);
        best = next;
      }
    }
    // A candidate with every node back in float32 is the input model again, not an answer.
    const met = best.trial.drop <= options.maxDrop && best.trial.keepFloat.length < plan.nodes.length;
    if (!met) {
      await removeModelFiles(best.path);
      throw new EdgeforgeError("ACCURACY_TARGET_NOT_MET", `no candidate met maxDrop ${options.maxDrop} (${options.dropKind} ${reference.metric}); the best dropped ${best.trial.drop.toFixed(4)} with ${best.trial.keepFloat.length} of ${plan.nodes.length} nodes in float32`, {
        hint: "allow a larger --max-drop, raise maxEvaluations, try another calibration method, or use fp16",
        details: { trials, metric: reference.metric, floatScore: reference.score },
      });
    }
    const model = (await readOnnxModel(best.path)).model;
    await removeModelFiles(best.path);
    logQdq(log, plan, best.result, samples);
    describeOutcome(log, reference, trials, best.trial, ranking);
    const artifact = await writePassOutput(model, outputPath, {
      input, inputFile, passId: quantizeAutoPass.id, passVersion: quantizeAutoPass.version, options, externalData: options.externalData, context,
    });
    return passResult(artifact, log, start);
  },
};

/** Build one candidate (fresh copy of the input, QDQ applied, `keepFloat` left float) in the workDir. */
async function buildCandidate(
  inputPath: string,
  plan: QdqPlan,
  params: Map<string, QuantizationParams>,
  options: QuantizeInt8StaticOptions,
  keepFloat: string[],
  context: PassContext,
): Promise<{ path: string; result: QdqApplyResult }> {
  const model = (await readOnnxModel(inputPath, { signal: context.signal })).model;
  // The plan's nodes belong to the first copy; match them in this one by id.
  const fresh = planStatic(model, options, inputPath);
  const result = applyQdq(model, fresh, params, { ...options, path: inputPath }, new Set(keepFloat));
  removeUnusedConstants(model);
  const path = join(context.workDir, `auto-candidate-${keepFloat.length}-of-${plan.nodes.length}-${process.hrtime.bigint()}.onnx`);
  await writeOnnxModel(model, path, { signal: context.signal });
  return { path, result };
}

function describeOutcome(log: ReturnType<typeof emptyLog>, reference: Reference, trials: Trial[], best: Trial, ranking: NodeSensitivity[]): void {
  addCount(log, "nodesKeptFloat", best.keepFloat.length);
  addCount(log, "evaluations", trials.length);
  log.notes.push(`metric ${reference.metric}: float ${reference.score.toFixed(4)}, quantized ${best.score.toFixed(4)} (drop ${best.drop.toFixed(4)}); fully quantized dropped ${trials[0]!.drop.toFixed(4)}`);
  const byId = new Map(ranking.map((r) => [r.id, r]));
  for (const id of best.keepFloat) {
    const r = byId.get(id)!;
    log.notes.push(`kept float32: ${id} (int8 would lose ${(r.activationError * 100).toFixed(2)}% on activations, ${(r.weightError * 100).toFixed(2)}% on weights, relative L2)`);
  }
}
