import type { GraphProto, ModelProto, NodeProto } from "onnx-buf";
import { z } from "zod";
import type { Artifact } from "../../core/artifact.js";
import { EdgeforgeError } from "../../core/errors.js";
import { computeQuantizationParams, type QuantizationParams, type QuantizationRange } from "../../kernels/linear-quantization.js";
import { calibrationMethods } from "../../kernels/range-collector.js";
import { walkGraphs, type GraphScope } from "../../formats/onnx/graph-walk.js";
import type { Pass, PassContext, PassLog, PassResult } from "../pass.js";
import { calibrateRanges, type CalibratedRanges } from "./calibrate-ranges.js";
import { ScopeTally } from "./candidate-nodes.js";
import { excludeNodesOption, excludeOpTypesOption, externalDataOption, suffixedOutputName } from "./common-options.js";
import { ensureOpsetImport, nodeId, removeUnusedConstants } from "./graph-edit.js";
import { addCount, emptyLog, runStreamedRewrite, type PassInputFile } from "./onnx-pass-io.js";
import { describeFloatIslands } from "./float-islands.js";
import { NameAllocator } from "./graph-edit.js";
import { detectInt8Format } from "./int8-format.js";
import { applyQdq, type QdqApplyResult } from "./qdq-apply.js";
import { defaultQdqOpTypes, planQdq, qdqOpKinds, qdqOpTypes, type QdqOpType, type QdqPlan } from "./qdq-plan.js";
import { prepareForQdq, type PrepareCounts } from "./qdq-prepare.js";
import { quantizeInt8DynamicOptionsSchema, rewriteDynamic } from "./quantize-int8-dynamic.js";
import { exposeSubgraphValues, insideLoopBody, reachableFromMain } from "./subgraph-exposure.js";
import { calibrateLoopBodyRanges } from "./loop-body-ranges.js";

export const quantizeInt8StaticOptionsSchema = z.object({
  opTypes: z
    .array(z.enum(qdqOpTypes as [QdqOpType, ...QdqOpType[]]))
    .default(defaultQdqOpTypes)
    .describe("ops quantized with QDQ: weighted (Conv, ConvTranspose, MatMul, Gemm), elementwise (Add, Mul, Concat), own range (pooling, Sigmoid, LeakyRelu, Softmax), data movement sharing its input's scale (Reshape, Transpose, Resize, MaxPool…)"),
  foldActivations: z.boolean().default(true).describe("fold Relu/Clip/HardSigmoid and scalar Mul/Add chains into the preceding quantized output's scale and zero point (asymmetric activations only)"),
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

/** The QDQ plan of one subgraph and where it sits. */
export interface SubgraphPlan {
  scope: GraphScope;
  plan: QdqPlan;
}

/** The QDQ plans of a model: its main graph's, and one per If branch and Loop/Scan body with candidates. */
export interface StaticPlans {
  plan: QdqPlan;
  prepared: PrepareCounts;
  subgraphPlans: SubgraphPlan[];
}

/** A node's id qualified by its subgraph's path ("If_25/then_branch/Conv_3"), plain in the main graph: ids are unique per graph only. */
export function scopedNodeId(scopePath: string, id: string): string {
  return scopePath === "" ? id : `${scopePath}/${id}`;
}

/** The plan of every subgraph holding candidates, in walk order: deterministic, so a copy re-plans to the same ids. */
export function planEverySubgraph(model: ModelProto, options: ResolvedStaticOptions): SubgraphPlan[] {
  const plans: SubgraphPlan[] = [];
  for (const scope of [...walkGraphs(model.graph!)].slice(1)) {
    const plan = planPrepared(model, options, scope.graph);
    if (plan.nodes.length > 0 || plan.skips.skipped.length > 0) plans.push({ scope, plan });
  }
  return plans;
}

/**
 * Prepare the float graph (per-channel affines folded into Convs, Div by constants as Mul) and plan the QDQ
 * rewrite of the main graph and of every If branch and Loop/Scan body (their activations reach calibration
 * through the If outputs and the bodies' scan outputs; other subgraphs stay float, noted in `tally`),
 * refusing a model with nothing to quantize (`otherQuantized`: nodes another rewrite already quantized).
 * Deterministic: the auto pass re-plans fresh copies and matches nodes by scoped id.
 */
export function planStatic(model: ModelProto, options: ResolvedStaticOptions, path: string, outcome: { tally?: ScopeTally; otherQuantized?: number } = {}): StaticPlans {
  // Opt-in with ConvTranspose (on det it measured no faster than the float ConvTranspose: onnxruntime's uint8
  // DepthToSpace costs about what the float ConvTranspose did); a node the options keep float stays one.
  const rewritesTransposed = (node: NodeProto) =>
    options.opTypes.includes("ConvTranspose") && options.opTypes.includes("Conv") && !options.excludeOpTypes.includes("ConvTranspose") && !options.excludeOpTypes.includes("Conv") && !options.excludeNodes.includes(nodeId(node));
  const prepared = prepareForQdq(model, new NameAllocator(model), rewritesTransposed);
  const plan = planPrepared(model, options);
  const subgraphPlans: SubgraphPlan[] = [];
  for (const scoped of planEverySubgraph(model, options)) {
    if (reachableFromMain(scoped.scope)) subgraphPlans.push(scoped);
    else for (const n of scoped.plan.nodes) outcome.tally?.kept(scoped.scope.path, n.id, "inside a subgraph of an op other than If, Loop or Scan: its values cannot be read out for calibration");
  }
  const quantizable = [plan, ...subgraphPlans.map((s) => s.plan)].some((p) => p.nodes.some((n) => n.kind !== "shared"));
  if (!quantizable && (outcome.otherQuantized ?? 0) === 0) {
    throw new EdgeforgeError("NOTHING_TO_DO", `${path} has no node that static int8 can quantize (ops tried: ${options.opTypes.join(", ")})`, {
      hint: "the model may have no such ops, or be quantized already",
      details: { path, skipped: plan.skips.skipped.slice(0, 20) },
    });
  }
  return { plan, prepared, subgraphPlans };
}

/**
 * Calibrate the activations of every plan: subgraph values are threaded out to the main graph for the runs
 * and mapped back; a value whose branch or body no sample ran gets no range (its nodes stay float). When
 * the runtime cannot stack a Loop/Scan body's values (a shape that changes between iterations), the rest is
 * calibrated without them and those bodies on min/max reduced inside them (calibrateLoopBodyRanges); a body
 * that cannot be reached that way either stays float, noted in `tally`.
 */
export async function calibratePlans(model: ModelProto, planned: StaticPlans, options: QuantizeInt8StaticOptions, context: PassContext, tally: ScopeTally): Promise<{ calibrated: CalibratedRanges; planned: StaticPlans }> {
  try {
    return { calibrated: await calibrateExposed(model, planned, options, context), planned };
  } catch (error) {
    const inBodies = planned.subgraphPlans.filter((s) => insideLoopBody(s.scope));
    if (inBodies.length === 0 || context.signal?.aborted) throw error;
    const message = error instanceof Error ? error.message : String(error);
    // onnxruntime's own words ("Inconsistent shape in loop output …") after its status preamble.
    const cause = (/Status Message: (.*)/.exec(message)?.[1] ?? message.split("\n")[0]!).slice(0, 160);
    const without = { ...planned, subgraphPlans: planned.subgraphPlans.filter((s) => !inBodies.includes(s)) };
    const calibrated = await calibrateExposed(model, without, options, context);
    // The bodies' values again, each reduced to its min and max inside its body: scalars stack over any iterations.
    let bodyRanges = new Map<string, QuantizationRange>();
    try {
      bodyRanges = await calibrateLoopBodyRanges(model, inBodies.flatMap((s) => s.plan.tensors), context);
    } catch (reductionError) {
      if (context.signal?.aborted) throw reductionError;
    }
    const covered = inBodies.filter((s) => s.plan.tensors.every((tensor) => bodyRanges.has(tensor)));
    for (const body of inBodies) {
      const { scope, plan } = body;
      if (covered.includes(body)) {
        // A main-graph value a body reads keeps its range from the main calibration (the chosen method).
        for (const tensor of plan.tensors) if (!calibrated.ranges.has(tensor)) calibrated.ranges.set(tensor, bodyRanges.get(tensor)!);
        const method = options.calibrationMethod === "minmax" ? "" : ` (min/max, not ${options.calibrationMethod}: that needs the values themselves)`;
        tally.remark(scope.path, `values change shape between iterations (${cause}): calibrated on their min and max reduced inside the body${method}`);
      } else {
        for (const n of plan.nodes) tally.kept(scope.path, n.id, `inside a Loop/Scan body whose values the runtime could not stack over the iterations for calibration: ${cause}`);
      }
    }
    return { calibrated, planned: { ...planned, subgraphPlans: planned.subgraphPlans.filter((s) => !inBodies.includes(s) || covered.includes(s)) } };
  }
}

async function calibrateExposed(model: ModelProto, planned: StaticPlans, options: QuantizeInt8StaticOptions, context: PassContext): Promise<CalibratedRanges> {
  const subgraphTensors = planned.subgraphPlans.flatMap((s) => s.plan.tensors);
  const exposed = exposeSubgraphValues(model, subgraphTensors, new NameAllocator(model));
  let calibrated: CalibratedRanges;
  try {
    // A subgraph may also read main-graph values: those are calibrated under their own names.
    const tensors = [...new Set([...planned.plan.tensors, ...subgraphTensors.map((name) => exposed.aliases.get(name) ?? name)])];
    calibrated = await calibrateRanges(model, tensors, { method: options.calibrationMethod, percentile: options.percentile, symmetric: options.activationSymmetric }, context);
  } finally {
    exposed.restore();
  }
  for (const [name, alias] of exposed.aliases) {
    const range = calibrated.ranges.get(alias);
    calibrated.ranges.delete(alias);
    if (range) calibrated.ranges.set(name, range);
  }
  return calibrated;
}

/** One plan applied: the graph's scope path ("" for the main graph), the plan and what it did. */
export interface AppliedPlan {
  path: string;
  plan: QdqPlan;
  result: QdqApplyResult;
}

/** The main plan, then every subgraph's, each with its graph's scope path ("" for the main graph). */
export function scopedPlans(main: QdqPlan, subgraphPlans: readonly SubgraphPlan[]): { path: string; plan: QdqPlan }[] {
  return [{ path: "", plan: main }, ...subgraphPlans.map((s) => ({ path: s.scope.path, plan: s.plan }))];
}

/** Apply the main plan, then every subgraph's, leaving float the nodes whose scoped ids (scopedNodeId) are in `keepFloat`. */
export function applyPlans(model: ModelProto, main: QdqPlan, subgraphPlans: readonly SubgraphPlan[], params: ReadonlyMap<string, QuantizationParams>, options: ResolvedStaticOptions & { path: string }, keepFloat: ReadonlySet<string>): AppliedPlan[] {
  return scopedPlans(main, subgraphPlans).map(({ path, plan }) => {
    const kept = new Set(plan.nodes.filter((n) => keepFloat.has(scopedNodeId(path, n.id))).map((n) => n.id));
    return { path, plan, result: applyQdq(model, plan, params, options, kept) };
  });
}

/**
 * Note in `tally` what became of each plan's nodes (quantized, or float and why; skipped weighted ops too),
 * and add the subgraphs' counts to the log (logQdq counts the main graph's). `keepFloat`: scoped ids the
 * accuracy budget kept float.
 */
export function recordApplied(applied: readonly AppliedPlan[], tally: ScopeTally, log: PassLog, keepFloat: ReadonlySet<string>): void {
  for (const { path, plan, result } of applied) {
    const quantized = new Set(result.quantizedNodes);
    let uncalibrated = 0;
    for (const n of plan.nodes) {
      if (quantized.has(n.id)) tally.quantized(path, n.node.opType);
      else if (keepFloat.has(scopedNodeId(path, n.id))) tally.kept(path, n.id, "kept float for the accuracy target");
      else if (n.kind === "shared") tally.kept(path, n.id, "its input is not quantized");
      else {
        tally.kept(path, n.id, "not calibrated: no calibration sample ran it");
        uncalibrated += 1;
      }
    }
    // A whole branch or body without ranges: the data never took it (Silero VAD's 8 kHz branch under 16 kHz samples).
    if (path !== "" && uncalibrated > 0 && quantized.size === 0) tally.remark(path, "no calibration sample ran this graph: add samples that take it (for an If branch, inputs that make its condition take the other value) to quantize it");
    // Skipped weighted ops are worth naming; the integer shape arithmetic around them is not.
    const weighted = new Set(plan.graph.node.filter((node) => qdqOpKinds[node.opType as QdqOpType] === "weighted").map(nodeId));
    for (const { id, reason } of plan.skips.skipped) if (weighted.has(id)) tally.kept(path, id, reason);
    if (path === "") continue;
    addCount(log, "nodesQuantized", result.quantizedNodes.length);
    addCount(log, "weightBytesBefore", result.store.floatBytes);
    addCount(log, "weightBytesAfter", result.store.quantizedBytes);
    addCount(log, "tensorsQuantized", result.quantizedTensors);
  }
}

/** Plan the QDQ rewrite of one graph (default: the main graph) of a model planStatic has already prepared (the auto pass plans copies of it). */
export function planPrepared(model: ModelProto, options: ResolvedStaticOptions, graph: GraphProto = model.graph!): QdqPlan {
  return planQdq(model, { ...options, foldActivations: options.foldActivations && !options.activationSymmetric, graph });
}

/** QDQ has no LSTM kernel: LSTMs become onnxruntime's dynamic int8 LSTM (weights int8, no calibration needed), as int8-dynamic makes them, unless the options exclude them. */
export function quantizeLstms(model: ModelProto, options: ResolvedStaticOptions, tally: ScopeTally): ReturnType<typeof rewriteDynamic> | undefined {
  if (options.excludeOpTypes.includes("LSTM")) return undefined;
  const lstmOptions = quantizeInt8DynamicOptionsSchema.parse({ opTypes: ["LSTM"], perChannel: options.perChannel, reduceRange: options.reduceRange, excludeNodes: options.excludeNodes });
  const lstm = rewriteDynamic(model, lstmOptions, tally);
  if (lstm.quantized > 0) ensureOpsetImport(model, "com.microsoft", 1);
  return lstm;
}

/** The LSTM rewrite's counts and note. */
export function recordLstms(lstm: ReturnType<typeof rewriteDynamic> | undefined, log: PassLog): void {
  if (!lstm || lstm.quantized === 0) return;
  addCount(log, "nodesQuantized", lstm.quantized);
  addCount(log, "weightBytesBefore", lstm.store.floatBytes);
  addCount(log, "weightBytesAfter", lstm.store.quantizedBytes);
  log.notes.push(`${lstm.quantized} LSTM(s) → com.microsoft.DynamicQuantizeLSTM: int8 weights, activations quantized at run time (QDQ has no LSTM kernel)`);
}

/** Counts and notes shared by the static and auto passes. */
export function logQdq(log: PassLog, model: ModelProto, planned: StaticPlans, result: QdqApplyResult, samples: number): void {
  const { plan, prepared } = planned;
  addCount(log, "nodesQuantized", result.quantizedNodes.length);
  addCount(log, "calibrationSamples", samples);
  addCount(log, "weightBytesBefore", result.store.floatBytes);
  addCount(log, "weightBytesAfter", result.store.quantizedBytes);
  addCount(log, "nodesFolded", result.nodesFolded);
  addCount(log, "tensorsQuantized", result.quantizedTensors);
  if (prepared.affinesFolded > 0) log.notes.push(`${prepared.affinesFolded} BatchNormalization or Mul/Add-by-constant node(s) folded into the preceding Conv's weights and bias before quantization`);
  if (prepared.transposedConvsAsConv > 0) log.notes.push(`${prepared.transposedConvsAsConv} ConvTranspose(s) with kernel = stride rewritten as a 1×1 Conv and DepthToSpace (onnxruntime has no int8 ConvTranspose on CPU; QLinearConv runs it)`);
  if (prepared.divisionsToProducts > 0) log.notes.push(`${prepared.divisionsToProducts} Div by a constant rewritten as Mul by its reciprocal (Mul has an int8 kernel)`);
  if (result.nodesFolded > 0) log.notes.push(`${result.nodesFolded} Relu/Clip/HardSigmoid and scalar Mul/Add node(s) folded into the preceding quantized output's scale and zero point`);
  if (result.hardSwishesFused > 0) log.notes.push(`${result.hardSwishesFused} float hardswish(es) written out (Add, Clip, Mul, Div) rewritten as HardSigmoid · x, which onnxruntime fuses into HardSwish and the Conv before it`);
  if (result.floatAffinesFolded > 0) log.notes.push(`${result.floatAffinesFolded} float scalar Mul/Add node(s) folded into the float Conv after them (weights, or bias where it has no padding)`);
  if (result.opsetUpgradedFrom !== undefined) log.notes.push(`ai.onnx opset raised from ${result.opsetUpgradedFrom} to 10: QuantizeLinear and the QLinear kernels need opset 10`);
  if (result.domain !== "") log.notes.push(`ai.onnx opset < 13: QuantizeLinear/DequantizeLinear use the ${result.domain} domain (per-axis support)`);
  describeFloatIslands(model, log);
  plan.skips.writeTo(log);
}

/** Static int8 QDQ quantization with activation ranges from calibration data. */
export const quantizeInt8StaticPass: Pass<QuantizeInt8StaticOptions> = {
  id: "onnx.quantize.int8-static",
  version: "6",
  description: "QDQ int8 for activations and weights (per-channel), activation ranges calibrated on user data (minmax, percentile, entropy)",
  inputFormat: "onnx",
  outputFormat: "onnx",
  optionsSchema: quantizeInt8StaticOptionsSchema,
  searchSpace: { calibrationMethod: ["minmax", "percentile", "entropy"], perChannel: [true, false], activationSymmetric: [false, true] },
  defaultOutputName: (inputPath) => suffixedOutputName(inputPath, "_int8"),
  readsData: () => ["calibration"],
  run(input: Artifact, outputPath: string, options: QuantizeInt8StaticOptions, context: PassContext): Promise<PassResult> {
    return runStreamedRewrite(quantizeInt8StaticPass, input, outputPath, options, context, (inputFile) => rewriteInt8Static(inputFile, options, context));
  },
};

/**
 * The int8-static rewrite of a pass input, in place. Weights read streamed (readPassInput's `streamWeights`)
 * stay in their file through calibration (its model copy is written from them) and are read one at a time
 * when quantized, so the model holds the int8 weights, never the float32 ones whole (those the preparation
 * folds into a Conv are read in); the model and its bytes are the same as from weights read into memory.
 */
export async function rewriteInt8Static(inputFile: PassInputFile, options: QuantizeInt8StaticOptions, context: PassContext): Promise<PassLog> {
  const model = inputFile.model;
  const log = emptyLog(inputFile.notes);
  const resolved = await resolveInt8Format(options, log, context.signal);
  const tally = new ScopeTally();
  const lstm = quantizeLstms(model, resolved, tally);
  const { calibrated, planned } = await calibratePlans(model, planStatic(model, resolved, inputFile.path, { tally, otherQuantized: lstm?.quantized ?? 0 }), options, context, tally);
  const { ranges, samples } = calibrated;
  const params = activationParams(ranges, resolved);
  const applied = applyPlans(model, planned.plan, planned.subgraphPlans, params, { ...resolved, path: inputFile.path }, new Set());
  recordApplied(applied, tally, log, new Set());
  recordLstms(lstm, log);
  removeUnusedConstants(model);
  logQdq(log, model, planned, applied[0]!.result, samples);
  tally.writeTo(log);
  return log;
}
