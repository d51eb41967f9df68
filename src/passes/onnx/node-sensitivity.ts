import type { ModelProto } from "onnx-buf";
import { dequantize, quantizedRange, roundHalfToEven, type QuantizationParams } from "../../kernels/linear-quantization.js";
import { quantizePerChannel, quantizePerTensor } from "../../kernels/weight-quantization.js";
import type { Session } from "../../core/session.js";
import type { PassContext } from "../pass.js";
import type { Reference } from "./accuracy-drop.js";
import { removeModelFiles, writeExposedModel } from "./activation-capture.js";
import { readFloat32, tensorDims } from "./float-tensors.js";
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

function getSum(sums: Map<string, ErrorSum>, name: string): ErrorSum {
  let sum = sums.get(name);
  if (!sum) {
    sum = { noise: 0, signal: 0 };
    sums.set(name, sum);
  }
  return sum;
}

function addDifference(expected: Float32Array, actual: Float32Array, sum: ErrorSum): void {
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const d = actual[i]! - e;
    sum.noise += d * d;
    sum.signal += e * e;
  }
}

interface ErrorSum {
  noise: number;
  signal: number;
}

function relativeError(sum: ErrorSum | undefined): number {
  if (!sum || sum.signal === 0) return 0;
  return Math.sqrt(sum.noise / sum.signal);
}

/** Add the noise of quantizing `values` with `params` (as QuantizeLinear → DequantizeLinear would) to `sum`. */
function addQuantizationNoise(values: Float32Array, params: QuantizationParams, qMin: number, qMax: number, sum: ErrorSum): void {
  const { scale, zeroPoint } = params;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    let q = roundHalfToEven(Math.fround(x / scale)) + zeroPoint;
    q = q < qMin ? qMin : q > qMax ? qMax : q;
    const error = x - (q - zeroPoint) * scale;
    sum.noise += error * error;
    sum.signal += x * x;
  }
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
  const { qMin, qMax } = quantizedRange({ type: options.activationType, symmetric: false });
  const paths = [await writeExposedModel(floatModel, tensors, context, "sensitivity"), await writeExposedModel(quantizedModel, tensors, context, "sensitivity-int8")];
  const sums = new Map<string, ErrorSum>();
  // Error of each tensor in the fully quantized model against the float one: what has accumulated by then.
  const drift = new Map<string, ErrorSum>();
  const sessions: Session[] = [];
  try {
    for (const path of paths) sessions.push(await context.openSession!(path, context.signal));
    context.progress?.start("sensitivity", reference.samples.length);
    for (const [index, sample] of reference.samples.entries()) {
      const values = await sessions[0]!.run(sample.inputs, { outputNames: [...tensors], signal: context.signal });
      const quantized = await sessions[1]!.run(sample.inputs, { outputNames: [...tensors], signal: context.signal });
      for (const name of tensors) {
        const tensor = values[name];
        const p = params.get(name);
        if (!tensor || tensor.dtype !== "float32") continue;
        if (p) addQuantizationNoise(tensor.data as Float32Array, p, qMin, qMax, getSum(sums, name));
        const q = quantized[name];
        if (q?.dtype === "float32" && q.data.length === tensor.data.length) addDifference(tensor.data as Float32Array, q.data as Float32Array, getSum(drift, name));
      }
      context.progress?.update(index + 1);
    }
    context.progress?.finish();
  } finally {
    for (const session of sessions) await session.close();
    for (const path of paths) await removeModelFiles(path);
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

function weightQuantizationError(tensor: Parameters<typeof readFloat32>[0], axis: number, options: SensitivityOptions): number {
  const data = readFloat32(tensor);
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
