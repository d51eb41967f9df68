import type { ModelProto } from "onnx-buf";
import { cloneModel } from "../../formats/onnx/clone-model.js";
import { dequantize, type QuantizationParams } from "../../kernels/linear-quantization.js";
import { quantizePerChannel, quantizePerTensor } from "../../kernels/weight-quantization.js";
import type { Session } from "../../core/session.js";
import type { PassContext } from "../pass.js";
import type { Reference } from "./accuracy-drop.js";
import { removeModelFiles, writeExposedModel } from "./activation-capture.js";
import { appendGraphCopy } from "./append-graph-copy.js";
import { readFloat32Unkept, tensorDims } from "./float-tensors.js";
import { NameAllocator } from "./graph-edit.js";
import { InGraphReductions, scalarValue } from "./in-graph-reductions.js";
import { upgradeOpsetTo10 } from "./opset-upgrade.js";
import { exposeSubgraphValues } from "./subgraph-exposure.js";
import type { QdqNodePlan } from "./qdq-plan.js";

/** How much precision quantizing a node loses on its own: the worst relative L2 error of its quantized activations, plus its weight's. */
export interface NodeSensitivity {
  id: string;
  activationError: number;
  weightError: number;
  /** Growth of the relative error from the node's inputs to its output in the fully quantized model. */
  contextError: number;
  score: number;
}

interface ErrorSum {
  noise: number;
  signal: number;
}

const int8Prefix = "int8/";

/** Sums of squares of one sample (float32 from the runtime) added in float64; NaN (no value) adds nothing. */
function addSquares(sum: ErrorSum, noise: number, signal: number): void {
  if (Number.isFinite(noise) && Number.isFinite(signal)) {
    sum.noise += noise;
    sum.signal += signal;
  }
}

function relativeError(sum: ErrorSum | undefined): number {
  if (!sum || !(sum.signal > 0)) return 0;
  return Math.sqrt(sum.noise / sum.signal);
}

export interface SensitivityOptions {
  activationType: "uint8" | "int8";
  perChannel: boolean;
  reduceRange: boolean;
}

/**
 * Rank the planned nodes by the error their own quantization introduces, measured on the float
 * model's activations over the evaluation data (so error flowing in from upstream is not charged to
 * a node) plus the error of their quantized weights. Large scores first.
 *
 * One session runs the float and the fully quantized model side by side (one graph, the int8 copy's
 * names prefixed) with the comparisons as reductions in the graph: per activation, its energy, the
 * noise of quantizing it with its calibrated parameters, and its drift in the int8 model. Subgraph
 * activations are threaded out to the main graph first (exposeSubgraphValues), in both copies.
 */
export async function measureSensitivity(
  floatModel: ModelProto,
  quantizedModel: ModelProto,
  nodes: readonly QdqNodePlan[],
  tensors: readonly string[],
  params: ReadonlyMap<string, QuantizationParams>,
  reference: Reference,
  options: SensitivityOptions,
  context: PassContext,
): Promise<NodeSensitivity[]> {
  context.progress?.start("sensitivity", reference.samples.length);
  context.progress?.update(0, "building the float and int8 models side by side in one graph");
  const combined = cloneModel(floatModel);
  upgradeOpsetTo10(combined, new NameAllocator(combined), "sensitivity");
  const computedInt8 = appendGraphCopy(combined, quantizedModel, int8Prefix);
  const names = new NameAllocator(combined);
  // Subgraph activations (If branches, Loop/Scan bodies) are compared where they come out in the main graph.
  const exposed = exposeSubgraphValues(combined, [...tensors, ...tensors.map((name) => `${int8Prefix}${name}`)], names);
  const at = (name: string) => exposed.aliases.get(name) ?? name;
  const reductions = new InGraphReductions(names);
  const probes = tensors.map((name) => {
    const p = params.get(name);
    const value = at(name);
    const int8Value = `${int8Prefix}${name}`;
    return {
      name,
      signal: reductions.reduce("ReduceSumSquare", value),
      noise: p ? reductions.reduce("ReduceSumSquare", reductions.subtract(value, reductions.quantizeDequantize(value, p, options.activationType))) : undefined,
      drift: computedInt8.has(name) || exposed.aliases.has(int8Value) ? reductions.reduce("ReduceSumSquare", reductions.subtract(at(int8Value), value)) : undefined,
    };
  });
  const sums = new Map<string, ErrorSum>(tensors.map((name) => [name, { noise: 0, signal: 0 }]));
  // Error of each tensor in the fully quantized model against the float one: what has accumulated by then.
  const drift = new Map<string, ErrorSum>(tensors.map((name) => [name, { noise: 0, signal: 0 }]));
  const path = await writeExposedModel(combined, reductions.outputs, context, "sensitivity", reductions);
  let session: Session | undefined;
  try {
    session = await context.openSession!(path, context.signal);
    context.progress?.update(0, "side-by-side session open");
    for (const [index, sample] of reference.samples.entries()) {
      const values = await session.run(sample.inputs, { outputNames: reductions.outputs, signal: context.signal });
      for (const probe of probes) {
        const signal = scalarValue(values, probe.signal);
        if (probe.noise) addSquares(sums.get(probe.name)!, scalarValue(values, probe.noise), signal);
        if (probe.drift) addSquares(drift.get(probe.name)!, scalarValue(values, probe.drift), signal);
      }
      context.progress?.update(index + 1);
    }
    context.progress?.finish();
  } finally {
    await session?.close();
    await removeModelFiles(path);
  }
  return nodes
    .map((node) => {
      const activations = [...node.activations, ...node.outputs];
      const activationError = Math.max(0, ...activations.map((name) => relativeError(sums.get(name))));
      const weightError = node.weight ? weightQuantizationError(node.weight.ref.tensor, node.weight.axis, options) : 0;
      // What the node adds to the accumulated error in context (its output's drift beyond its inputs'):
      // catches nodes whose own loss is small but whose surroundings amplify it.
      const inputDrift = Math.max(0, ...node.activations.map((name) => relativeError(drift.get(name))));
      const outputDrift = Math.max(0, ...node.outputs.map((name) => relativeError(drift.get(name))));
      const contextError = Math.max(0, outputDrift - inputDrift);
      return { id: node.id, activationError, weightError, contextError, score: activationError + weightError + contextError };
    })
    .sort((a, b) => b.score - a.score);
}

function weightQuantizationError(tensor: Parameters<typeof readFloat32Unkept>[0], axis: number, options: SensitivityOptions): number {
  const data = readFloat32Unkept(tensor);
  const dims = tensorDims(tensor);
  const scaleOptions = { type: "int8" as const, symmetric: true, reduceRange: options.reduceRange };
  const q = options.perChannel ? quantizePerChannel(data, dims, axis, scaleOptions) : quantizePerTensor(data, scaleOptions);
  const restored = dequantize(q, dims);
  let noise = 0;
  let signal = 0;
  for (let i = 0; i < data.length; i++) {
    noise += (data[i]! - restored[i]!) ** 2;
    signal += data[i]! ** 2;
  }
  return signal === 0 ? 0 : Math.sqrt(noise / signal);
}
