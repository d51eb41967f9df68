import { join } from "node:path";
import type { ModelProto } from "onnx-buf";
import { cloneModel } from "../../formats/onnx/clone-model.js";
import { z } from "zod";
import type { Artifact } from "../../core/artifact.js";
import { EdgeforgeError } from "../../core/errors.js";
import { writeOnnxModel } from "../../formats/onnx/write-onnx.js";
import type { Pass, PassContext, PassLog, PassResult } from "../pass.js";
import { dropMetrics, measureCandidate, measureReference, scoreDrop, type Reference } from "./accuracy-drop.js";
import { removeModelFiles, requireInference } from "./activation-capture.js";
import { suffixedOutputName } from "./common-options.js";
import { removeUnusedConstants } from "./graph-edit.js";
import { measureSensitivity, type NodeSensitivity } from "./node-sensitivity.js";
import { bisectFewest } from "./bisect-fewest.js";
import { addCount, emptyLog, runStreamedRewrite, type PassInputFile } from "./onnx-pass-io.js";
import { ScopeTally } from "./candidate-nodes.js";
import {
  activationParams,
  applyPlans,
  calibratePlans,
  logQdq,
  planEverySubgraph,
  planPrepared,
  planStatic,
  quantizeInt8StaticOptionsSchema,
  quantizeLstms,
  recordApplied,
  recordLstms,
  resolveInt8Format,
  scopedNodeId,
  scopedPlans,
  type AppliedPlan,
  type ResolvedStaticOptions,
} from "./quantize-int8-static.js";
import type { QuantizationParams } from "../../kernels/linear-quantization.js";

export const quantizeAutoOptionsSchema = quantizeInt8StaticOptionsSchema.extend({
  maxDrop: z.number().min(0).default(0.01).describe("largest acceptable drop of the metric against the float model"),
  dropKind: z.enum(["absolute", "relative"]).default("absolute").describe("absolute: score points (0.01 = 1 point); relative: share of the float score"),
  metric: z
    .enum(dropMetrics)
    .default("auto")
    .describe("accuracy (top-1 against labels), top1-agreement or cosine (against the float model's outputs); auto: accuracy when every sample is labelled, else cosine"),
  maxEvaluations: z.number().int().min(2).max(64).default(20).describe("candidate models measured at most (each runs the evaluation data once)"),
});

export type QuantizeAutoOptions = z.output<typeof quantizeAutoOptionsSchema>;

interface Trial {
  keepFloat: string[];
  drop: number;
  score: number;
}

/**
 * Accuracy-aware mixed precision: quantize everything (static QDQ) and measure the drop on the
 * evaluation data; if it is too large, rank the nodes once by their own error contribution and
 * bisect over that ranking for the fewest worst nodes to return to float32 that meet maxDrop (and,
 * when that needs many, over the nodes in graph order).
 */
export const quantizeAutoPass: Pass<QuantizeAutoOptions> = {
  id: "onnx.quantize.auto",
  version: "5",
  description: "int8 QDQ with accuracy-aware fallback: the most sensitive nodes return to float32 until the drop is within maxDrop",
  inputFormat: "onnx",
  outputFormat: "onnx",
  optionsSchema: quantizeAutoOptionsSchema,
  searchSpace: { maxDrop: [0.005, 0.01, 0.02] },
  defaultOutputName: (inputPath) => suffixedOutputName(inputPath, "_int8"),
  // Without evaluation data the drop is measured on the calibration data: its absence is part of the key too.
  readsData: () => ["calibration", "evaluation"],
  run(input: Artifact, outputPath: string, options: QuantizeAutoOptions, context: PassContext): Promise<PassResult> {
    return runStreamedRewrite(quantizeAutoPass, input, outputPath, options, context, async (inputFile) => {
      const { model, log } = await chooseAuto(inputFile, options, context);
      inputFile.model = model;
      return log;
    });
  },
};

/**
 * The auto search on a pass input: the chosen candidate's model and the log. Weights read streamed
 * (readPassInput's `streamWeights`) stay in their file through every candidate copy (cloneModel) and are
 * read one at a time when quantized; the result is the same as from weights read into memory.
 */
export async function chooseAuto(inputFile: PassInputFile, options: QuantizeAutoOptions, context: PassContext): Promise<{ model: ModelProto; log: PassLog }> {
  const evaluation = context.evaluationData ?? context.calibrationData;
  requireInference(context.calibrationData, context, "calibration");
  requireInference(evaluation, context, "evaluation");
  const log = emptyLog(inputFile.notes);
  if (!context.evaluationData) log.notes.push("no separate evaluation data: the drop was measured on the calibration data");
  const resolved = await resolveInt8Format(options, log, context.signal);
  // As int8-static: LSTMs dynamic int8 first, then QDQ planned over the main graph and every If branch and Loop/Scan body.
  const tally = new ScopeTally();
  const lstm = quantizeLstms(inputFile.model, resolved, tally);
  const { calibrated, planned } = await calibratePlans(inputFile.model, planStatic(inputFile.model, resolved, inputFile.path, { tally, otherQuantized: lstm?.quantized ?? 0 }), options, context, tally);
  const { ranges, samples } = calibrated;
  const params = activationParams(ranges, resolved);
  const subgraphPaths = new Set(planned.subgraphPlans.map((s) => s.scope.path));
  context.progress?.start("auto: float reference", 1);
  const reference = await measureReference(inputFile.path, evaluation, options.metric, context);
  context.progress?.finish(`${reference.metric} ${reference.score.toFixed(4)}`);
  // Shared (data-movement) nodes follow their input; only nodes with their own ranges are ranked and reverted.
  // Ids are scoped by subgraph path: a name is unique within its graph only.
  const plans = scopedPlans(planned.plan, planned.subgraphPlans);
  const revertible = plans.flatMap(({ path, plan }) => plan.nodes.filter((n) => n.kind !== "shared").map((n) => ({ ...n, id: scopedNodeId(path, n.id) })));
  const tensors = [...new Set(plans.flatMap(({ plan }) => plan.tensors))];
  const trials: Trial[] = [];
  type Candidate = { trial: Trial; path: string; applied: AppliedPlan[]; model: ModelProto };
  const candidates: Candidate[] = [];
  let ranking: NodeSensitivity[] = [];
  const passes = (c: Candidate) => c.trial.drop <= options.maxDrop;
  const tryCandidate = async (order: readonly string[], reverted: number): Promise<Candidate> => {
    const keepFloat = order.slice(0, reverted);
    const built = await buildCandidate(inputFile.model, resolved, params, subgraphPaths, keepFloat, inputFile.path, context);
    const score = await measureCandidate(built.path, reference, context);
    const trial = { keepFloat, score, drop: scoreDrop(reference, score, options.dropKind) };
    trials.push(trial);
    context.progress?.update(trials.length, `${reverted} of ${revertible.length} nodes float: ${reference.metric} drop ${trial.drop.toFixed(4)}`);
    const candidate = { trial, path: built.path, applied: built.applied, model: built.model };
    candidates.push(candidate);
    return candidate;
  };
  // The fewest nodes of `order` (worst first) to revert that meet maxDrop, below `upper`; never all (that is the float model).
  const search = async (order: readonly string[], upper: number, budget: number): Promise<Candidate | undefined> => {
    const tried = new Map<number, Candidate>();
    const count = await bisectFewest(
      0,
      upper,
      async (reverted) => {
        const candidate = await tryCandidate(order, reverted);
        tried.set(reverted, candidate);
        return passes(candidate);
      },
      () => trials.length < budget,
    );
    return count === undefined ? undefined : tried.get(count);
  };

  context.progress?.start("auto: candidates", options.maxEvaluations);
  let best = await tryCandidate([], 0);
  if (!passes(best)) {
    ranking = await measureSensitivity(inputFile.model, best.model, revertible, tensors, params, reference, resolved, context);
    context.progress?.start("auto: candidates", options.maxEvaluations);
    best = (await search(ranking.map((r) => r.id), revertible.length - 1, 1 + Math.ceil(options.maxEvaluations / 2))) ?? best;
    // A per-node ranking misses losses that only add up (PP-OCRv4 det's early blocks): when it needs many
    // nodes float, also try reverting a prefix in graph order shorter than what the ranking needs.
    if ((!passes(best) || best.trial.keepFloat.length > revertible.length / 4) && trials.length < options.maxEvaluations) {
      const upper = passes(best) ? best.trial.keepFloat.length - 1 : revertible.length - 1;
      const byPosition = await search(revertible.map((n) => n.id), upper, options.maxEvaluations);
      if (byPosition) {
        best = byPosition;
        log.notes.push("the nodes kept float are a prefix in graph order: it met the target with fewer float nodes than the sensitivity ranking");
      }
    }
  }
  context.progress?.finish(`${trials.length} candidates`);
  for (const candidate of candidates) await removeModelFiles(candidate.path);
  const met = best.trial.drop <= options.maxDrop && best.trial.keepFloat.length < revertible.length;
  if (!met) {
    throw new EdgeforgeError("ACCURACY_TARGET_NOT_MET", `no candidate met maxDrop ${options.maxDrop} (${options.dropKind} ${reference.metric}); the best dropped ${best.trial.drop.toFixed(4)} with ${best.trial.keepFloat.length} of ${revertible.length} nodes in float32`, {
      hint: "allow a larger --max-drop, raise maxEvaluations, try another calibration method, or use fp16",
      details: { trials, metric: reference.metric, floatScore: reference.score },
    });
  }
  const keptFloat = new Set(best.trial.keepFloat);
  recordApplied(best.applied, tally, log, keptFloat);
  recordLstms(lstm, log);
  logQdq(log, best.model, planned, best.applied[0]!.result, samples);
  tally.writeTo(log);
  describeOutcome(log, reference, trials, best.trial, ranking);
  return { model: best.model, log };
}

/** Build one candidate (a copy of the prepared input, QDQ applied in the main graph and the subgraphs at `subgraphPaths`, `keepFloat` left float) as a scratch file in the workDir. */
async function buildCandidate(
  prepared: ModelProto,
  options: ResolvedStaticOptions,
  params: Map<string, QuantizationParams>,
  subgraphPaths: ReadonlySet<string>,
  keepFloat: string[],
  inputPath: string,
  context: PassContext,
): Promise<{ path: string; applied: AppliedPlan[]; model: ModelProto }> {
  const model = cloneModel(prepared);
  // The plans' nodes belong to the first copy; match them in this one by scoped id.
  const subgraphPlans = planEverySubgraph(model, options).filter((s) => subgraphPaths.has(s.scope.path));
  const applied = applyPlans(model, planPrepared(model, options), subgraphPlans, params, { ...options, path: inputPath }, new Set(keepFloat));
  removeUnusedConstants(model);
  const path = join(context.workDir, `auto-candidate-${keepFloat.length}-${process.hrtime.bigint()}.onnx`);
  await writeOnnxModel(model, path, { signal: context.signal, scratch: true });
  return { path, applied, model };
}

function describeOutcome(log: ReturnType<typeof emptyLog>, reference: Reference, trials: Trial[], best: Trial, ranking: NodeSensitivity[]): void {
  addCount(log, "nodesKeptFloat", best.keepFloat.length);
  addCount(log, "evaluations", trials.length);
  log.notes.push(`metric ${reference.metric}: float ${reference.score.toFixed(4)}, quantized ${best.score.toFixed(4)} (drop ${best.drop.toFixed(4)}); fully quantized dropped ${trials[0]!.drop.toFixed(4)}`);
  const byId = new Map(ranking.map((r) => [r.id, r]));
  for (const id of best.keepFloat) {
    const r = byId.get(id)!;
    log.notes.push(`kept float32: ${id} (int8 would lose ${(r.activationError * 100).toFixed(2)}% on activations, ${(r.weightError * 100).toFixed(2)}% on weights, and add ${(r.contextError * 100).toFixed(2)}% to the error carried in; relative L2)`);
  }
}
