import type { NodeProto } from "onnx-buf";
import { attributeFloats, attributeInt, attributeInts, hasAttribute } from "./node-attributes.js";
import { broadcastDims, isNumericDims, maxTrackedValues, normalizeAxis, product, type Dim, type ValueFacts } from "./value-facts.js";

type Inputs = (ValueFacts | undefined)[];

/** Attribute form (older opsets) or constant-input form (newer opsets) of an int list. */
function intsFrom(node: NodeProto, attribute: string, inputs: Inputs, index: number): number[] | undefined {
  return attributeInts(node, attribute) ?? inputs[index]?.values;
}

function inferReshape(node: NodeProto, x: Dim[] | undefined, shape: number[] | undefined): ValueFacts {
  if (!shape) return {};
  const allowZero = attributeInt(node, "allowzero", 0) === 1;
  const dims: Dim[] = shape.map((s, i) => (s === 0 && !allowZero ? (x?.[i] ?? null) : s === -1 ? null : s));
  const inferred = shape.indexOf(-1);
  if (inferred >= 0) {
    const known = dims.filter((_, i) => i !== inferred);
    dims[inferred] = isNumericDims(x) && isNumericDims(known) && product(known) > 0 ? product(x) / product(known) : null;
  }
  return { dims };
}

function inferSqueeze(node: NodeProto, inputs: Inputs): ValueFacts {
  const x = inputs[0]?.dims;
  if (!x) return {};
  const axes = intsFrom(node, "axes", inputs, 1);
  if (!axes) return isNumericDims(x) ? { dims: x.filter((d) => d !== 1) } : {};
  const drop = new Set(axes.map((a) => normalizeAxis(a, x.length)));
  return { dims: x.filter((_, i) => !drop.has(i)), values: inputs[0]?.values };
}

function inferUnsqueeze(node: NodeProto, inputs: Inputs): ValueFacts {
  const x = inputs[0]?.dims;
  const axes = intsFrom(node, "axes", inputs, 1);
  if (!x || !axes) return {};
  const rank = x.length + axes.length;
  const inserted = new Set(axes.map((a) => normalizeAxis(a, rank)));
  const dims: Dim[] = [];
  let next = 0;
  for (let i = 0; i < rank; i++) dims.push(inserted.has(i) ? 1 : (x[next++] ?? null));
  return { dims, values: inputs[0]?.values };
}

function inferConcat(node: NodeProto, inputs: Inputs): ValueFacts {
  const shapes = inputs.map((f) => f?.dims);
  const first = shapes[0];
  if (!first || shapes.some((s) => !s || s.length !== first.length)) return {};
  const axis = normalizeAxis(attributeInt(node, "axis", 0), first.length);
  if (axis === undefined) return {};
  const dims = [...first];
  const along = shapes.map((s) => s![axis]);
  dims[axis] = along.every((d) => typeof d === "number") ? (along as number[]).reduce((a, b) => a + b, 0) : null;
  const values = inputs.every((f) => f?.values) ? inputs.flatMap((f) => f!.values!) : undefined;
  return { dims, values: values && values.length <= maxTrackedValues ? values : undefined };
}

function inferGather(node: NodeProto, inputs: Inputs): ValueFacts {
  const [data, indices] = inputs;
  if (!data?.dims || !indices?.dims) return {};
  const axis = normalizeAxis(attributeInt(node, "axis", 0), data.dims.length);
  if (axis === undefined) return {};
  const dims = [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)];
  if (data.values && indices.values && data.dims.length === 1) {
    const n = data.values.length;
    const values = indices.values.map((i) => data.values![i < 0 ? i + n : i]);
    if (values.every((v) => v !== undefined)) return { dims, values: values as number[] };
  }
  return { dims };
}

function sliceLength(size: number, start: number, end: number, step: number): number {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const s = start < 0 ? start + size : start;
  const e = end < 0 ? end + size : end;
  if (step > 0) return Math.max(0, Math.ceil((clamp(e, 0, size) - clamp(s, 0, size)) / step));
  return Math.max(0, Math.ceil((clamp(s, -1, size - 1) - clamp(e, -1, size - 1)) / -step));
}

function inferSlice(node: NodeProto, inputs: Inputs): ValueFacts {
  const x = inputs[0]?.dims;
  const attributeForm = hasAttribute(node, "starts");
  const starts = attributeForm ? attributeInts(node, "starts") : inputs[1]?.values;
  const ends = attributeForm ? attributeInts(node, "ends") : inputs[2]?.values;
  if (!x || !starts || !ends) return {};
  const axes = (attributeForm ? attributeInts(node, "axes") : inputs[3]?.values) ?? starts.map((_, i) => i);
  const steps = (attributeForm ? undefined : inputs[4]?.values) ?? starts.map(() => 1);
  const dims = [...x];
  const values = inputs[0]?.values;
  let sliced = values;
  for (const [i, rawAxis] of axes.entries()) {
    const axis = normalizeAxis(rawAxis, x.length);
    if (axis === undefined) return {};
    const size = x[axis];
    const [start, end, step] = [starts[i]!, ends[i]!, steps[i] ?? 1];
    dims[axis] = typeof size === "number" && step !== 0 ? sliceLength(size, start, end, step) : null;
    if (sliced && x.length === 1 && typeof size === "number" && step === 1) {
      const s = Math.max(0, start < 0 ? start + size : Math.min(start, size));
      const e = Math.max(0, end < 0 ? end + size : Math.min(end, size));
      sliced = sliced.slice(s, e);
    } else {
      sliced = undefined;
    }
  }
  return { dims, values: sliced };
}

function inferReduce(node: NodeProto, inputs: Inputs): ValueFacts {
  const x = inputs[0]?.dims;
  if (!x) return {};
  const keep = attributeInt(node, "keepdims", 1) === 1;
  const axes = node.opType === "ArgMax" || node.opType === "ArgMin" ? [attributeInt(node, "axis", 0)] : intsFrom(node, "axes", inputs, 1);
  const all = !axes || axes.length === 0;
  if (all && attributeInt(node, "noop_with_empty_axes", 0) === 1) return { dims: x };
  const reduced = new Set(all ? x.map((_, i) => i) : axes.map((a) => normalizeAxis(a, x.length)));
  const dims = x.flatMap((d, i) => (reduced.has(i) ? (keep ? [1] : []) : [d]));
  return { dims };
}

function inferPad(node: NodeProto, inputs: Inputs): ValueFacts {
  const x = inputs[0]?.dims;
  const pads = intsFrom(node, "pads", inputs, 1);
  if (!x || !pads) return {};
  const axes = inputs[3]?.values ?? x.map((_, i) => i);
  const dims = [...x];
  axes.forEach((rawAxis, i) => {
    const axis = normalizeAxis(rawAxis, x.length);
    if (axis === undefined) return;
    const d = dims[axis];
    dims[axis] = typeof d === "number" ? d + pads[i]! + pads[i + axes.length]! : null;
  });
  return { dims };
}

function inferResize(node: NodeProto, inputs: Inputs): ValueFacts {
  const x = inputs[0]?.dims;
  if (!x) return {};
  const sizes = node.opType === "Resize" && inputs.length >= 4 ? inputs[3]?.values : undefined;
  if (sizes && sizes.length === x.length) return { dims: sizes };
  const scales = attributeFloats(node, "scales") ?? (inputs.length === 2 ? inputs[1]?.values : inputs[2]?.values);
  if (!scales || scales.length !== x.length) return {};
  return { dims: x.map((d, i) => (typeof d === "number" ? Math.floor(d * scales[i]!) : scales[i] === 1 ? d : null)) };
}

function inferSplit(node: NodeProto, inputs: Inputs): ValueFacts[] {
  const x = inputs[0]?.dims;
  if (!x) return [];
  const axis = normalizeAxis(attributeInt(node, "axis", 0), x.length);
  if (axis === undefined) return [];
  const count = node.output.length;
  const size = x[axis];
  const split = intsFrom(node, "split", inputs, 1) ??
    (typeof size === "number" && count > 0 ? Array.from({ length: count }, (_, i) => Math.ceil(size / count) - (i === count - 1 ? Math.ceil(size / count) * count - size : 0)) : undefined);
  return node.output.map((_, i) => ({ dims: x.map((d, j) => (j === axis ? (split?.[i] ?? null) : d)) }));
}

/** Shape-manipulating ops; unknown outputs for anything else. */
export function inferTensorOp(node: NodeProto, inputs: Inputs): (ValueFacts | undefined)[] {
  const x = inputs[0]?.dims;
  switch (node.opType) {
    case "Reshape":
      return [inferReshape(node, x, inputs[1]?.values)];
    case "Flatten": {
      if (!x) return [{}];
      const axis = attributeInt(node, "axis", 1);
      const cut = axis < 0 ? axis + x.length : axis;
      const part = (dims: Dim[]) => (isNumericDims(dims) ? product(dims) : null);
      return [{ dims: [part(x.slice(0, cut)), part(x.slice(cut))] }];
    }
    case "Transpose": {
      if (!x) return [{}];
      const perm = attributeInts(node, "perm") ?? x.map((_, i) => x.length - 1 - i);
      return [{ dims: perm.map((p) => x[p] ?? null) }];
    }
    case "Concat":
      return [inferConcat(node, inputs)];
    case "Squeeze":
      return [inferSqueeze(node, inputs)];
    case "Unsqueeze":
      return [inferUnsqueeze(node, inputs)];
    case "Shape": {
      if (!x) return [{}];
      const start = normalizeAxis(attributeInt(node, "start", 0), x.length + 1) ?? 0;
      const end = attributeInts(node, "end")?.[0];
      const picked = x.slice(start, end);
      return [{ dims: [picked.length], values: isNumericDims(picked) ? picked : undefined }];
    }
    case "Size":
      return [{ dims: [], values: isNumericDims(x) ? [product(x)] : undefined }];
    case "Gather":
      return [inferGather(node, inputs)];
    case "Slice":
      return [inferSlice(node, inputs)];
    case "ReduceMean":
    case "ReduceSum":
    case "ReduceMax":
    case "ReduceMin":
    case "ReduceProd":
    case "ReduceL1":
    case "ReduceL2":
    case "ReduceSumSquare":
    case "ReduceLogSumExp":
    case "ArgMax":
    case "ArgMin":
      return [inferReduce(node, inputs)];
    case "Pad":
      return [inferPad(node, inputs)];
    case "Resize":
    case "Upsample":
      return [inferResize(node, inputs)];
    case "Split":
      return inferSplit(node, inputs);
    case "Expand": {
      const shape = inputs[1]?.values;
      return [x && shape ? { dims: broadcastDims([x, shape]) } : {}];
    }
    case "ConstantOfShape":
      return [inputs[0]?.values ? { dims: inputs[0].values } : {}];
    case "Tile": {
      const repeats = inputs[1]?.values;
      return [x && repeats ? { dims: x.map((d, i) => (typeof d === "number" ? d * (repeats[i] ?? 1) : null)) } : {}];
    }
    case "DepthToSpace":
    case "SpaceToDepth": {
      const b = attributeInt(node, "blocksize", 1);
      if (!isNumericDims(x) || x.length !== 4) return [{}];
      const [n, c, h, w] = x as [number, number, number, number];
      return [{ dims: node.opType === "DepthToSpace" ? [n, c / (b * b), h * b, w * b] : [n, c * b * b, h / b, w / b] }];
    }
    default:
      return [];
  }
}
