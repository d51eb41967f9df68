import type { NodeProto } from "onnx-buf";
import { attributeInt, attributeInts, attributeString } from "./node-attributes.js";
import { inferTensorOp } from "./shape-inference-tensor-ops.js";
import { broadcastDims, isNumericDims, maxTrackedValues, type Dim, type FactLookup, type ValueFacts } from "./value-facts.js";

const sameShapeOps = new Set([
  "Relu", "Sigmoid", "Tanh", "Clip", "HardSigmoid", "HardSwish", "LeakyRelu", "Elu", "Selu", "Celu", "Gelu", "FastGelu",
  "Erf", "Exp", "Log", "Sqrt", "Neg", "Abs", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Not", "Softmax", "LogSoftmax",
  "Hardmax", "Identity", "Dropout", "Cast", "CastLike", "BatchNormalization", "InstanceNormalization", "LayerNormalization",
  "SimplifiedLayerNormalization", "SkipLayerNormalization", "Softplus", "Softsign", "Mish", "Sin", "Cos", "IsNaN", "IsInf",
  "PRelu", "QuantizeLinear", "DequantizeLinear", "ThresholdedRelu", "Shrink", "Trilu", "CumSum", "LRN", "MeanVarianceNormalization",
  "BiasGelu", "QuickGelu", "DynamicQuantizeLinear",
]);

const broadcastOps = new Set([
  "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual",
  "And", "Or", "Xor", "Mod", "Where", "BitShift",
]);

const valueArithmetic: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => Math.trunc(a / b),
  Equal: (a, b) => Number(a === b),
  Less: (a, b) => Number(a < b),
  Greater: (a, b) => Number(a > b),
};

function inferBroadcast(node: NodeProto, inputs: (ValueFacts | undefined)[]): ValueFacts {
  const shapes = inputs.map((f) => f?.dims);
  if (shapes.some((s) => s === undefined)) return {};
  const dims = broadcastDims(shapes as Dim[][]);
  const op = valueArithmetic[node.opType];
  const [a, b] = inputs;
  if (op && a?.values && b?.values && inputs.length === 2) {
    const n = Math.max(a.values.length, b.values.length);
    if (n <= maxTrackedValues && (a.values.length === n || a.values.length === 1) && (b.values.length === n || b.values.length === 1)) {
      const values = Array.from({ length: n }, (_, i) => op(a.values![a.values!.length === 1 ? 0 : i]!, b.values![b.values!.length === 1 ? 0 : i]!));
      return { dims, values };
    }
  }
  return { dims };
}

function inferMatMul(a: Dim[] | undefined, b: Dim[] | undefined): ValueFacts {
  if (!a || !b || a.length === 0 || b.length === 0) return {};
  const left = a.length === 1 ? [1, a[0]!] : a;
  const right = b.length === 1 ? [b[0]!, 1] : b;
  const batch = broadcastDims([left.slice(0, -2), right.slice(0, -2)]);
  const dims: Dim[] = [...batch, left[left.length - 2]!, right[right.length - 1]!];
  if (b.length === 1) dims.pop();
  if (a.length === 1) dims.splice(dims.length - (b.length === 1 ? 1 : 2), 1);
  return { dims };
}

/** Output spatial size for a sliding window (Conv, pooling). */
function windowOutput(size: Dim, kernel: number, stride: number, dilation: number, padBegin: number, padEnd: number, autoPad: string, ceilMode: boolean): Dim {
  if (typeof size !== "number") return null;
  if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") return Math.ceil(size / stride);
  const span = dilation * (kernel - 1) + 1;
  const pads = autoPad === "VALID" ? 0 : padBegin + padEnd;
  const steps = (size + pads - span) / stride;
  return (ceilMode ? Math.ceil(steps) : Math.floor(steps)) + 1;
}

function inferWindowed(node: NodeProto, x: Dim[] | undefined, kernel: number[] | undefined, channels: Dim): ValueFacts {
  if (!x || !kernel || x.length !== kernel.length + 2) return {};
  const spatial = kernel.length;
  const strides = attributeInts(node, "strides") ?? Array<number>(spatial).fill(1);
  const dilations = attributeInts(node, "dilations") ?? Array<number>(spatial).fill(1);
  const pads = attributeInts(node, "pads") ?? Array<number>(spatial * 2).fill(0);
  const autoPad = attributeString(node, "auto_pad", "NOTSET");
  const ceilMode = attributeInt(node, "ceil_mode", 0) === 1;
  const dims: Dim[] = [x[0]!, channels];
  for (let i = 0; i < spatial; i++) {
    dims.push(windowOutput(x[i + 2]!, kernel[i]!, strides[i] ?? 1, dilations[i] ?? 1, pads[i] ?? 0, pads[i + spatial] ?? 0, autoPad, ceilMode));
  }
  return { dims };
}

function inferConvTranspose(node: NodeProto, x: Dim[] | undefined, w: Dim[] | undefined): ValueFacts {
  if (!x || !w || !isNumericDims(w) || x.length !== w.length) return {};
  const spatial = w.length - 2;
  const channels = w[1]! * attributeInt(node, "group", 1);
  const outputShape = attributeInts(node, "output_shape");
  if (outputShape) return { dims: [x[0]!, channels, ...outputShape] };
  const strides = attributeInts(node, "strides") ?? Array<number>(spatial).fill(1);
  const dilations = attributeInts(node, "dilations") ?? Array<number>(spatial).fill(1);
  const pads = attributeInts(node, "pads") ?? Array<number>(spatial * 2).fill(0);
  const outPad = attributeInts(node, "output_padding") ?? Array<number>(spatial).fill(0);
  const dims: Dim[] = [x[0]!, channels];
  for (let i = 0; i < spatial; i++) {
    const size = x[i + 2];
    const kernel = (attributeInts(node, "kernel_shape") ?? w.slice(2))[i]!;
    dims.push(typeof size === "number"
      ? (strides[i] ?? 1) * (size - 1) + (outPad[i] ?? 0) + ((kernel - 1) * (dilations[i] ?? 1) + 1) - (pads[i] ?? 0) - (pads[i + spatial] ?? 0)
      : null);
  }
  return { dims };
}

function inferRecurrent(node: NodeProto, x: Dim[] | undefined): ValueFacts[] {
  const hidden = attributeInt(node, "hidden_size", 0);
  const directions = attributeString(node, "direction", "forward") === "bidirectional" ? 2 : 1;
  if (!x || x.length !== 3 || hidden <= 0) return [];
  const batchFirst = attributeInt(node, "layout", 0) === 1;
  const [seq, batch] = batchFirst ? [x[1]!, x[0]!] : [x[0]!, x[1]!];
  const y: Dim[] = batchFirst ? [batch, seq, directions, hidden] : [seq, directions, batch, hidden];
  const state: Dim[] = batchFirst ? [batch, directions, hidden] : [directions, batch, hidden];
  return [{ dims: y }, { dims: state }, { dims: state }];
}

/**
 * Output facts for one node from its inputs' facts, for the ops common in exported vision, audio
 * and transformer models; other ops yield unknown outputs rather than guesses.
 */
export function inferNodeOutputs(node: NodeProto, lookup: FactLookup): (ValueFacts | undefined)[] {
  const inputs = node.input.map((name) => (name === "" ? undefined : lookup(name)));
  const x = inputs[0]?.dims;
  const op = node.domain === "" || node.domain === "ai.onnx" || node.domain === "com.microsoft" ? node.opType : "";
  if (sameShapeOps.has(op)) return [{ dims: x, values: op === "Identity" || op === "Cast" ? inputs[0]?.values : undefined }];
  if (broadcastOps.has(op)) return [inferBroadcast(node, inputs)];
  switch (op) {
    case "MatMul":
    case "MatMulInteger":
      return [inferMatMul(x, inputs[1]?.dims)];
    case "Gemm": {
      const b = inputs[1]?.dims;
      if (!x || !b || x.length !== 2 || b.length !== 2) return [{}];
      const m = attributeInt(node, "transA", 0) ? x[1]! : x[0]!;
      const n = attributeInt(node, "transB", 0) ? b[0]! : b[1]!;
      return [{ dims: [m, n] }];
    }
    case "Conv":
    case "ConvInteger": {
      const w = inputs[1]?.dims;
      const kernel = attributeInts(node, "kernel_shape") ?? (isNumericDims(w) ? w.slice(2) : undefined);
      return [inferWindowed(node, x, kernel, w?.[0] ?? null)];
    }
    case "ConvTranspose":
      return [inferConvTranspose(node, x, inputs[1]?.dims)];
    case "MaxPool":
    case "AveragePool":
    case "LpPool":
      return [inferWindowed(node, x, attributeInts(node, "kernel_shape"), x?.[1] ?? null)];
    case "GlobalAveragePool":
    case "GlobalMaxPool":
    case "GlobalLpPool":
      return [x ? { dims: [x[0]!, x[1]!, ...x.slice(2).map(() => 1)] } : {}];
    case "LSTM":
    case "GRU":
    case "RNN":
      return inferRecurrent(node, x);
    default:
      return inferTensorOp(node, inputs);
  }
}
