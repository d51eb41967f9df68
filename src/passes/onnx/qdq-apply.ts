import type { ModelProto, NodeProto } from "onnx-buf";
import { computeQuantizationParams, quantizedRange, roundHalfToEven, type QuantizationParams, type QuantizedType } from "../../kernels/linear-quantization.js";
import { quantizePerChannel, quantizePerTensor } from "../../kernels/weight-quantization.js";
import { readFloat32, tensorDims, withFloat32 } from "./float-tensors.js";
import { subgraphsOf } from "../../formats/onnx/graph-walk.js";
import { defaultOpsetVersion, ensureOpsetImport, intAttribute, makeNode, NameAllocator, namesReadUnder } from "./graph-edit.js";
import { foldFloatAffinesIntoConv, fuseFloatHardSwish } from "./float-island-rewrites.js";
import { InitializerStore } from "./initializer-store.js";
import { upgradeOpsetTo10 } from "./opset-upgrade.js";
import { integerSharedOps, type FoldedChain, type QdqNodePlan, type QdqPlan } from "./qdq-plan.js";

export interface QdqApplyOptions {
  /** For messages. */
  path: string;
  activationType: "uint8" | "int8";
  perChannel: boolean;
  reduceRange: boolean;
}

export interface QdqApplyResult {
  quantizedNodes: string[];
  store: InitializerStore;
  /** Domain of the Q/DQ nodes: "" (ai.onnx, opset ≥ 13) or "com.microsoft" for older opsets. */
  domain: string;
  /** The ai.onnx opset the model had when it was raised to 10 (QLinear kernels need 10). */
  opsetUpgradedFrom?: number;
  /** Relu/Clip/HardSigmoid and scalar Mul/Add nodes folded into the preceding quantized output's parameters. */
  nodesFolded: number;
  /** Main-graph tensors that got a Q/DQ pair. */
  quantizedTensors: number;
  /** Float hardswish chains (Add, Clip, Mul, Div) left outside the int8 region, rewritten as HardSigmoid · x. */
  hardSwishesFused: number;
  /** Float scalar Mul/Add nodes folded into the float Conv that alone reads them. */
  floatAffinesFolded: number;
}

const int32Max = 2 ** 31 - 1;

/**
 * Insert QuantizeLinear/DequantizeLinear pairs into the plan's graph in the layout onnxruntime fuses
 * into QLinear kernels: one pair per quantized tensor (so no DQ→Q back and forth), constant scalar
 * scale and zero point shared by the Q and DQ of the pair; weights as constant int8 (symmetric,
 * per channel) behind a DQ; Conv/Gemm biases as int32 with scale = input scale × weight scale;
 * constant inputs of Add/Mul/Concat per tensor in the activation type; data-movement ops (shared)
 * only where their input is quantized already, their output borrowing its scale and zero point (those
 * onnxruntime has no QDQ fusion for, DepthToSpace, read the integers between the Q and the DQ);
 * Relu/Clip/HardSigmoid and scalar Mul/Add chains folded into the producer's output parameters. Nodes in `keepFloat`
 * (and their reads) stay float; a hardswish written out among them becomes HardSigmoid · x, which onnxruntime fuses, and a scalar Mul/Add before
 * a float Conv goes into its weights.
 */
export function applyQdq(model: ModelProto, plan: QdqPlan, calibrated: ReadonlyMap<string, QuantizationParams>, options: QdqApplyOptions, keepFloat: ReadonlySet<string>): QdqApplyResult {
  const graph = plan.graph;
  const names = new NameAllocator(model);
  const store = new InitializerStore(names);
  const opsetUpgradedFrom = upgradeOpsetTo10(model, names, options.path);
  // Per-axis DequantizeLinear needs ai.onnx opset 13; the com.microsoft ops take an axis at any opset.
  const domain = defaultOpsetVersion(model) >= 13 ? "" : "com.microsoft";
  if (domain !== "") ensureOpsetImport(model, domain, 1);

  const floatNodes = new Set(plan.nodes.filter((n) => keepFloat.has(n.id)).map((n) => n.node));
  const params = new Map<string, QuantizationParams>();
  const own = plan.nodes.filter((n) => !keepFloat.has(n.id) && n.kind !== "shared");
  const active: QdqNodePlan[] = [];
  for (const n of own) {
    const tensors = [...n.activations, ...n.outputs];
    if (!tensors.every((tensor) => calibrated.has(tensor))) continue;
    for (const tensor of tensors) params.set(tensor, calibrated.get(tensor)!);
    active.push(n);
  }
  // A folded chain's QuantizeLinear reads the node's own output with parameters derived from the chain's output.
  const foldedInputs = new Map<string, { input: string; params: QuantizationParams }>();
  const foldedNodes = new Set<NodeProto>();
  // A chain read by a node kept float stays in the graph: that reader must see float values, not a DequantizeLinear
  // (onnxruntime would otherwise quantize a float Conv's weights in-graph, with Round, which opset 10 lacks).
  const floatReads = new Set([...floatNodes].flatMap((node) => node.input));
  for (const n of active) {
    if (!n.fold || floatReads.has(n.fold.output)) continue;
    const folded = foldedParams(params.get(n.fold.output)!, n.fold, options.activationType);
    params.set(n.fold.output, folded.output);
    foldedInputs.set(n.fold.output, { input: n.node.output[0]!, params: folded.input });
    for (const node of n.fold.nodes) foldedNodes.add(node);
  }
  if (foldedNodes.size > 0) graph.node = graph.node.filter((node) => !foldedNodes.has(node));
  // Shared ops in graph order, so that a chain (Reshape → Transpose) follows its quantized input.
  const shared = new Map(plan.nodes.filter((n) => n.kind === "shared" && !keepFloat.has(n.id)).map((n) => [n.node, n]));
  for (const node of graph.node) {
    const n = shared.get(node);
    const p = n ? params.get(n.activations[0]!) : undefined;
    if (!n || !p) continue;
    for (const output of n.outputs) params.set(output, p);
    active.push(n);
  }

  const addParams = (tensor: string, p: QuantizationParams): [string, string] => [
    store.add(graph, tensor, { suffix: "_scale", dtype: "float32", dims: [], data: Float32Array.of(p.scale) }),
    store.add(graph, tensor, {
      suffix: "_zero_point",
      dtype: options.activationType,
      dims: [],
      data: options.activationType === "int8" ? Int8Array.of(p.zeroPoint) : Uint8Array.of(p.zeroPoint),
    }),
  ];
  // Pairs are keyed by the tensor the QuantizeLinear reads, and follow the node producing it.
  const dequantized = new Map<string, string>();
  const quantizedNames = new Map<string, string>();
  const pairs = new Map<string, NodeProto[]>();
  for (const [tensor, p] of params) {
    const folded = foldedInputs.get(tensor);
    const [scale, zeroPoint] = addParams(tensor, p);
    const [inputScale, inputZeroPoint] = folded ? addParams(folded.input, folded.params) : [scale, zeroPoint];
    const quantized = names.allocate(`${tensor}_quantized`);
    // The chain's output now comes out of the DequantizeLinear itself: its readers stay as they are.
    const output = folded ? tensor : names.allocate(`${tensor}_dequantized`);
    if (!folded) dequantized.set(tensor, output);
    quantizedNames.set(tensor, quantized);
    const input = folded?.input ?? tensor;
    pairs.set(input, [
      makeNode({ opType: "QuantizeLinear", domain, name: names.allocate(`${tensor}_QuantizeLinear`), inputs: [input, inputScale, inputZeroPoint], outputs: [quantized] }),
      makeNode({ opType: "DequantizeLinear", domain, name: names.allocate(`${tensor}_DequantizeLinear`), inputs: [quantized, scale, zeroPoint], outputs: [output] }),
    ]);
  }

  const weightNodes: NodeProto[] = [];
  const weightDequantized = new Map<string, string>();
  const dequantizeWeight = (key: string, tensorNames: string[], axis: number | undefined, base: string): string => {
    const cached = weightDequantized.get(key);
    if (cached) return cached;
    const output = names.allocate(`${base}_dequantized`);
    weightNodes.push(makeNode({
      opType: "DequantizeLinear", domain, name: names.allocate(`${base}_DequantizeLinear`), inputs: tensorNames, outputs: [output],
      attributes: axis === undefined ? [] : [intAttribute("axis", axis)],
    }));
    weightDequantized.set(key, output);
    return output;
  };

  const quantizedNodes: string[] = [];
  for (const nodePlan of active) {
    const { node } = nodePlan;
    let weightScales: Float32Array | undefined;
    if (nodePlan.weight) {
      const { ref, slot, axis } = nodePlan.weight;
      // onnxruntime's QLinearMatMul with per-column scales takes a slow path (several times the per-tensor kernel on rec).
      const perChannel = options.perChannel && (node.opType === "Conv" || node.opType === "ConvTranspose");
      const variant = `qdq|${perChannel ? axis : "tensor"}|${options.reduceRange}`;
      const tensorNames = store.addOnce(ref.graph, ref.tensor.name, variant, () => withFloat32(ref.tensor, (data) => {
        const dims = tensorDims(ref.tensor);
        const scaleOptions = { type: "int8" as const, symmetric: true, reduceRange: options.reduceRange };
        const q = perChannel ? quantizePerChannel(data, dims, axis, scaleOptions) : quantizePerTensor(data, scaleOptions);
        const paramDims = perChannel ? [q.scales.length] : [];
        return {
          tensors: [
            { suffix: "_quantized", dtype: "int8", dims, data: q.data },
            { suffix: "_scale", dtype: "float32", dims: paramDims, data: q.scales },
            { suffix: "_zero_point", dtype: "int8", dims: paramDims, data: q.zeroPoints },
          ],
          floatBytes: data.byteLength,
        };
      }));
      weightScales = readScales(ref.graph, tensorNames[1]!);
      node.input[slot] = dequantizeWeight(`${ref.tensor.name}|${variant}`, tensorNames, perChannel ? axis : undefined, ref.tensor.name);
    }
    for (const { ref, slot } of nodePlan.constants) {
      const variant = `qdq-constant|${options.activationType}`;
      const tensorNames = store.addOnce(ref.graph, ref.tensor.name, variant, () => {
        const data = readFloat32(ref.tensor);
        const q = quantizePerTensor(data, { type: options.activationType, symmetric: false });
        return {
          tensors: [
            { suffix: "_quantized", dtype: options.activationType, dims: tensorDims(ref.tensor), data: q.data },
            { suffix: "_scale", dtype: "float32", dims: [], data: q.scales },
            { suffix: "_zero_point", dtype: options.activationType, dims: [], data: q.zeroPoints },
          ],
          floatBytes: data.byteLength,
        };
      });
      node.input[slot] = dequantizeWeight(`${ref.tensor.name}|${variant}`, tensorNames, undefined, ref.tensor.name);
    }
    const biasInput = nodePlan.bias ? quantizeBias(nodePlan, params, weightScales, store, graph) : undefined;
    if (nodePlan.bias && biasInput) {
      const perChannelBias = (weightScales?.length ?? 0) > 1;
      node.input[nodePlan.bias.slot] = dequantizeWeight(biasInput[0]!, biasInput, perChannelBias ? 0 : undefined, nodePlan.bias.ref.tensor.name);
    }
    quantizedNodes.push(nodePlan.id);
  }

  // Rewire every reader of a quantized activation (except nodes kept float) to its DequantizeLinear output.
  const rewritten: NodeProto[] = [...weightNodes];
  // Pairs of values no node here produces (graph inputs, outer-scope values read by an If branch) go first.
  const produced = new Set(graph.node.flatMap((node) => node.output));
  for (const [tensor, pair] of pairs) if (!produced.has(tensor)) rewritten.push(...pair);
  // uint8 only: the int8 forms of these kernels are not registered on every onnxruntime build.
  const onIntegers = new Set(active.filter((n) => n.kind === "shared" && integerSharedOps.has(n.node.opType) && options.activationType === "uint8").map((n) => n.node));
  const droppedDequantize = new Set<string>();
  // Readers that keep the float name (nodes kept float, If branches) need the op's float output: those ops stay float.
  const floatNamesRead = new Set([...floatReads, ...graph.node.flatMap((node) => subgraphsOf(node).flatMap(({ graph: sub }) => [...namesReadUnder(sub)]))]);
  for (const node of graph.node) {
    const integer = onIntegers.has(node) && quantizedNames.has(node.input[0]!) && pairs.has(node.output[0]!) && !floatNamesRead.has(node.output[0]!);
    if (integer) {
      // Q → op → DQ: the op moves the integers themselves (onnxruntime has no QDQ fusion that would do it).
      droppedDequantize.add(dequantized.get(node.input[0]!) ?? node.input[0]!);
      node.input[0] = quantizedNames.get(node.input[0]!)!;
      const [, dequantize] = pairs.get(node.output[0]!)!;
      node.output[0] = dequantize!.input[0]!;
      rewritten.push(node, dequantize!);
      continue;
    }
    if (!floatNodes.has(node)) {
      node.input.forEach((name, i) => {
        const replacement = dequantized.get(name);
        if (replacement) node.input[i] = replacement;
      });
    }
    rewritten.push(node);
    for (const output of node.output) {
      const pair = pairs.get(output);
      if (pair) rewritten.push(...pair);
    }
  }
  // A DequantizeLinear whose only reader now reads the integers is dead.
  const read = new Set([...rewritten.flatMap((node) => [...node.input, ...subgraphsOf(node).flatMap(({ graph: sub }) => [...namesReadUnder(sub)])]), ...graph.output.map((o) => o.name)]);
  graph.node = rewritten.filter((node) => !(node.opType === "DequantizeLinear" && droppedDequantize.has(node.output[0]!) && !read.has(node.output[0]!)));
  const hardSwishesFused = fuseFloatHardSwish(model, graph, names);
  const floatAffinesFolded = foldFloatAffinesIntoConv(model, graph, names);
  return { quantizedNodes, store, domain, ...(opsetUpgradedFrom === undefined ? {} : { opsetUpgradedFrom }), nodesFolded: foldedNodes.size, quantizedTensors: pairs.size, hardSwishesFused, floatAffinesFolded };
}

/**
 * Parameters for a folded chain y = clamp(scale · x + shift): y's own (widened, if need be, so that
 * y = shift, i.e. x = 0, is a code and x gets a valid zero point), and x's, which the QuantizeLinear
 * uses so that the DequantizeLinear with y's gives y. Rounding x's zero point to a code moves y by
 * at most half a step.
 */
export function foldedParams(y: QuantizationParams, chain: Pick<FoldedChain, "scale" | "shift">, type: QuantizedType): { input: QuantizationParams; output: QuantizationParams } {
  const { qMin, qMax } = quantizedRange({ type, symmetric: false });
  const low = y.scale * (qMin - y.zeroPoint);
  const high = y.scale * (qMax - y.zeroPoint);
  const output = chain.shift < low || chain.shift > high ? computeQuantizationParams({ min: Math.min(low, chain.shift), max: Math.max(high, chain.shift) }, { type, symmetric: false }) : y;
  const zeroPoint = Math.min(qMax, Math.max(qMin, roundHalfToEven(output.zeroPoint + chain.shift / output.scale)));
  return { input: { scale: Math.fround(output.scale / chain.scale), zeroPoint }, output };
}

function readScales(graph: ModelProto["graph"] & object, name: string): Float32Array {
  const tensor = graph.initializer.find((t) => t.name === name)!;
  return readFloat32(tensor);
}

/** int32 bias with scale = activation scale × weight scale (per channel), zero point 0: the layout QLinearConv fuses. */
function quantizeBias(
  nodePlan: QdqNodePlan,
  params: ReadonlyMap<string, QuantizationParams>,
  weightScales: Float32Array | undefined,
  store: InitializerStore,
  graph: ModelProto["graph"] & object,
): string[] | undefined {
  const bias = nodePlan.bias!;
  const inputParams = params.get(bias.activation);
  if (!inputParams || !weightScales) return undefined;
  const values = readFloat32(bias.ref.tensor);
  const perChannel = weightScales.length > 1;
  if (perChannel && weightScales.length !== values.length) return undefined;
  const scales = new Float32Array(perChannel ? values.length : 1);
  for (let i = 0; i < scales.length; i++) scales[i] = inputParams.scale * weightScales[i]!;
  const quantized = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const scale = scales[perChannel ? i : 0]!;
    const q = scale === 0 ? 0 : Math.round(values[i]! / scale);
    quantized[i] = Math.max(-int32Max, Math.min(int32Max, q));
  }
  const dims = perChannel ? [values.length] : [];
  const base = `${bias.ref.tensor.name}_${nodePlan.id}`;
  return [
    store.add(graph, base, { suffix: "_quantized", dtype: "int32", dims: [values.length], data: quantized }),
    store.add(graph, base, { suffix: "_scale", dtype: "float32", dims, data: scales }),
    store.add(graph, base, { suffix: "_zero_point", dtype: "int32", dims, data: new Int32Array(perChannel ? values.length : 1) }),
  ];
}
