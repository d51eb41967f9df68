import { TensorProto_DataType as T, type AttributeProto, type GraphProto, type ModelProto, type NodeProto, type ValueInfoProto } from "onnx-buf";
import { z } from "zod";
import type { Artifact } from "../../core/artifact.js";
import { EdgeforgeError } from "../../core/errors.js";
import { createTensorProto } from "../../formats/onnx/tensor-data.js";
import type { Pass, PassContext, PassLog, PassResult } from "../pass.js";
import { excludeNodesOption, externalDataOption, suffixedOutputName } from "./common-options.js";
import { inferElementTypes, type ElementTypes } from "./element-types.js";
import { convertTensorToFloat16, exceedsFloat16 } from "./float-tensors.js";
import { ConstantIndex, constantNodeTensor, defaultOpsetVersion, intAttribute, makeNode, NameAllocator, nodeId, tensorAttribute } from "./graph-edit.js";
import { walkGraphs } from "../../formats/onnx/graph-walk.js";
import { addCount, emptyLog, runStreamedRewrite, type PassInputFile } from "./onnx-pass-io.js";

/**
 * Ops kept in float32 by default: ONNX-ML ops and index/range ops (as onnxconverter-common does),
 * quantization ops whose scales must stay float32, and reductions that overflow float16 easily.
 */
export const defaultFp16BlockList = [
  "ArrayFeatureExtractor", "Binarizer", "CastMap", "CategoryMapper", "DictVectorizer", "FeatureVectorizer", "Imputer",
  "LabelEncoder", "LinearClassifier", "LinearRegressor", "Normalizer", "OneHotEncoder", "SVMClassifier", "SVMRegressor",
  "Scaler", "TreeEnsembleClassifier", "TreeEnsembleRegressor", "ZipMap",
  "NonMaxSuppression", "TopK", "RoiAlign", "Range", "CumSum", "RandomUniformLike", "RandomNormalLike", "Multinomial",
  "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear",
  "ReduceSumSquare", "ReduceLogSumExp", "ReduceProd",
] as const;

export const convertFp16OptionsSchema = z.object({
  keepIoTypes: z.boolean().default(true).describe("keep float32 model inputs and outputs, with Cast nodes at the boundary"),
  opBlockList: z.array(z.string()).default([...defaultFp16BlockList]).describe("op types that stay float32 (Casts around them)"),
  excludeNodes: excludeNodesOption,
  overflow: z
    .enum(["keep-float32", "clamp"])
    .default("keep-float32")
    .describe("weights beyond ±65504: keep the nodes reading them, and the arithmetic right after, in float32; or clamp the values"),
  externalData: externalDataOption,
});

export type ConvertFp16Options = z.output<typeof convertFp16OptionsSchema>;

type Precision = "f16" | "f32";

const controlFlowOps = new Set(["If", "Loop", "Scan"]);

/** Inputs that ONNX types as float32 only, whatever the node's T (Resize scales/roi, Upsample scales). */
function wantsFloat32Slot(node: NodeProto, slot: number, opset: number): boolean {
  if (node.domain !== "" && node.domain !== "ai.onnx") return false;
  if (node.opType === "Upsample") return slot === 1;
  if (node.opType === "Resize") return opset >= 11 ? slot === 1 || slot === 2 : slot === 1;
  return false;
}

function setElementType(info: ValueInfoProto, dataType: number): void {
  const type = info.type?.value;
  if (type?.case === "tensorType") type.value.elemType = dataType;
}

interface GraphState {
  graph: GraphProto;
  types: ElementTypes;
  parent?: GraphState;
  /** Precision decided for float32 values defined in this graph. */
  precision: Map<string, Precision>;
  /** Cast outputs already made here: "name|f16" → cast output. */
  casts: Map<string, string>;
}

function precisionOf(state: GraphState, name: string): Precision | undefined {
  for (let s: GraphState | undefined = state; s; s = s.parent) {
    const found = s.precision.get(name);
    if (found) return found;
  }
  return undefined;
}

class Fp16Converter {
  readonly log: PassLog = emptyLog();
  private readonly names: NameAllocator;
  private readonly blocked: Set<string>;
  private readonly excluded: Set<string>;
  private readonly opset: number;
  private readonly mainTypes: ElementTypes;
  private readonly subgraphTypes: Map<GraphProto, ElementTypes>;

  constructor(private readonly model: ModelProto, private readonly options: ConvertFp16Options) {
    this.names = new NameAllocator(model);
    this.blocked = new Set(options.opBlockList);
    this.excluded = new Set(options.excludeNodes);
    this.opset = defaultOpsetVersion(model);
    const inferred = inferElementTypes(model.graph!);
    this.mainTypes = inferred.types;
    this.subgraphTypes = inferred.subgraphs;
    this.rangeBlocked = options.overflow === "keep-float32" ? findOverflowNodes(model) : new Set();
    addCount(this.log, "nodesKeptFloat32ForRange", this.rangeBlocked.size);
  }

  private readonly rangeBlocked: Set<NodeProto>;

  /** Control-flow nodes are never kept float32 as a whole: their subgraphs are converted node by node. */
  isBlocked(node: NodeProto): boolean {
    if (controlFlowOps.has(node.opType)) return false;
    return this.blocked.has(node.opType) || this.excluded.has(nodeId(node)) || this.rangeBlocked.has(node);
  }

  run(): void {
    this.convertGraph(this.model.graph!, this.mainTypes, undefined);
  }

  private wantsFloat32(node: NodeProto, slot: number): boolean {
    return this.isBlocked(node) || wantsFloat32Slot(node, slot, this.opset);
  }

  /** Names read as float16 in `graph` or its subgraphs (by nodes that are not kept float32, and as subgraph outputs). */
  private namesWantingHalf(graph: GraphProto): Set<string> {
    const names = new Set<string>();
    for (const node of graph.node) {
      node.input.forEach((name, slot) => {
        if (name !== "" && !this.wantsFloat32(node, slot)) names.add(name);
      });
      for (const attribute of node.attribute) {
        for (const sub of [attribute.g, ...attribute.graphs]) if (sub) for (const name of this.namesWantingHalf(sub)) names.add(name);
      }
    }
    for (const output of graph.output) names.add(output.name);
    return names;
  }

  /** Decide float16 vs float32 for the float32 values this graph defines. */
  private decide(state: GraphState, isMain: boolean): void {
    const { graph, types } = state;
    const keepIo = isMain && this.options.keepIoTypes;
    const wantsHalf = this.namesWantingHalf(graph);
    if (isMain && keepIo) for (const output of graph.output) wantsHalf.delete(output.name);
    const inputs = new Set(graph.input.map((i) => i.name));
    for (const input of graph.input) {
      if (types.isFloat32(input.name)) state.precision.set(input.name, keepIo ? "f32" : "f16");
    }
    for (const tensor of graph.initializer) {
      if (inputs.has(tensor.name) || tensor.dataType !== T.FLOAT) continue;
      state.precision.set(tensor.name, wantsHalf.has(tensor.name) ? "f16" : "f32");
    }
    for (const node of graph.node) {
      const constant = constantNodeTensor(node);
      for (const output of node.output) {
        if (!types.isFloat32(output)) continue;
        if (constant) state.precision.set(output, constant.dataType === T.FLOAT && wantsHalf.has(output) ? "f16" : "f32");
        else if (node.opType === "Constant") state.precision.set(output, "f32");
        else state.precision.set(output, this.isBlocked(node) ? "f32" : "f16");
      }
    }
  }

  private convertGraph(graph: GraphProto, types: ElementTypes, parent: GraphState | undefined): void {
    const isMain = parent === undefined;
    const state: GraphState = { graph, types, parent, precision: new Map(), casts: new Map() };
    this.decide(state, isMain);
    const keepIo = isMain && this.options.keepIoTypes;

    for (const tensor of graph.initializer) {
      if (state.precision.get(tensor.name) === "f16" && tensor.dataType === T.FLOAT) this.convertTensor(tensor);
    }
    for (const input of graph.input) if (state.precision.get(input.name) === "f16") setElementType(input, T.FLOAT16);

    const rewritten: NodeProto[] = [];
    for (const node of graph.node) {
      for (const attribute of node.attribute) {
        for (const sub of [attribute.g, ...attribute.graphs]) {
          if (sub) this.convertGraph(sub, this.subgraphTypes.get(sub)!, state);
        }
      }
      node.input.forEach((name, slot) => {
        if (name === "") return;
        const have = precisionOf(state, name);
        if (!have) return;
        const need: Precision = this.wantsFloat32(node, slot) ? "f32" : "f16";
        if (have !== need) node.input[slot] = this.castFor(state, name, need, rewritten);
      });
      if (!this.isBlocked(node)) this.convertNodeAttributes(node, state);
      else addCount(this.log, "nodesKeptFloat32");
      rewritten.push(node);
    }
    graph.node = rewritten;
    this.fixGraphOutputs(state, keepIo);
    // Declared intermediate types would now be wrong for converted values; runtimes re-infer them.
    graph.valueInfo = graph.valueInfo.filter((info) => !types.isFloat32(info.name));
  }

  private convertNodeAttributes(node: NodeProto, state: GraphState): void {
    const isDefault = node.domain === "" || node.domain === "ai.onnx";
    if (!isDefault) return;
    const constant = constantNodeTensor(node);
    if (constant && node.output[0] && state.precision.get(node.output[0]) === "f16" && constant.dataType === T.FLOAT) {
      this.convertTensor(constant);
      return;
    }
    if (node.opType === "Cast") {
      const to = node.attribute.find((a) => a.name === "to");
      if (to && Number(to.i) === T.FLOAT) to.i = BigInt(T.FLOAT16);
      return;
    }
    if (node.opType === "ConstantOfShape" && state.precision.get(node.output[0] ?? "") === "f16") {
      const value = node.attribute.find((a) => a.name === "value");
      if (value?.t) this.convertTensor(value.t);
      else node.attribute.push(tensorAttribute("value", createTensorProto("value", "float16", [1], new Uint16Array(1))));
      return;
    }
    if (["RandomNormal", "RandomUniform", "EyeLike"].includes(node.opType)) {
      const dtype = node.attribute.find((a) => a.name === "dtype") as AttributeProto | undefined;
      if (dtype && Number(dtype.i) === T.FLOAT) dtype.i = BigInt(T.FLOAT16);
      else if (!dtype && node.opType !== "EyeLike") node.attribute.push(intAttribute("dtype", T.FLOAT16));
    }
  }

  private convertTensor(tensor: Parameters<typeof convertTensorToFloat16>[0]): void {
    const { clampedCount, flushedCount } = convertTensorToFloat16(tensor);
    addCount(this.log, "tensorsConverted");
    addCount(this.log, "valuesClamped", clampedCount);
    addCount(this.log, "valuesFlushedToZero", flushedCount);
  }

  /** A Cast of `name` to `need`, made once per graph, placed before its first reader. */
  private castFor(state: GraphState, name: string, need: Precision, nodes: NodeProto[]): string {
    const key = `${name}|${need}`;
    const existing = state.casts.get(key);
    if (existing) return existing;
    const output = this.names.allocate(`${name}_${need === "f16" ? "fp16" : "fp32"}`);
    nodes.push(makeNode({ opType: "Cast", inputs: [name], outputs: [output], name: this.names.allocate(`${output}_cast`), attributes: [intAttribute("to", need === "f16" ? T.FLOAT16 : T.FLOAT)] }));
    state.casts.set(key, output);
    addCount(this.log, "castsInserted");
    return output;
  }

  /** Main graph (keepIoTypes): float32 outputs get a final Cast. Subgraphs: outputs become float16. */
  private fixGraphOutputs(state: GraphState, keepIo: boolean): void {
    const { graph, types } = state;
    for (const output of graph.output) {
      if (!types.isFloat32(output.name)) continue;
      const have = precisionOf(state, output.name);
      if (keepIo) {
        if (have !== "f16") continue;
        const internal = this.names.allocate(`${output.name}_fp16`);
        renameValue(this.model.graph!, output.name, internal);
        graph.node.push(makeNode({ opType: "Cast", inputs: [internal], outputs: [output.name], name: this.names.allocate(`${output.name}_cast`), attributes: [intAttribute("to", T.FLOAT)] }));
        addCount(this.log, "castsInserted");
      } else {
        if (have === "f32") output.name = this.castFor(state, output.name, "f16", graph.node);
        setElementType(output, T.FLOAT16);
      }
    }
  }
}

/** Arithmetic that carries a large value along; a range-guarded chain stays float32 through it. */
const rangeCarryingOps = new Set(["Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Log", "Neg", "Abs", "Sum", "Reciprocal"]);

/**
 * Nodes that read a float32 constant beyond the float16 range (a BatchNorm variance of 1e8, a
 * 2^20 gain before a log), plus the arithmetic right after them, which would overflow in float16.
 */
function findOverflowNodes(model: ModelProto): Set<NodeProto> {
  const constants = new ConstantIndex(model);
  const blocked = new Set<NodeProto>();
  const tooLarge = new Map<string, boolean>();
  for (const { graph } of walkGraphs(model.graph!)) {
    const consumers = new Map<string, NodeProto[]>();
    for (const node of graph.node) for (const input of node.input) consumers.set(input, [...(consumers.get(input) ?? []), node]);
    const queue: NodeProto[] = [];
    for (const node of graph.node) {
      const overflows = node.input.some((name) => {
        const ref = name === "" ? undefined : constants.resolve(graph, name);
        if (!ref || ref.tensor.dataType !== T.FLOAT) return false;
        const key = `${ref.tensor.name}|${name}`;
        if (!tooLarge.has(key)) tooLarge.set(key, exceedsFloat16(ref.tensor));
        return tooLarge.get(key)!;
      });
      if (overflows && !blocked.has(node)) {
        blocked.add(node);
        queue.push(node);
      }
    }
    while (queue.length > 0) {
      const node = queue.pop()!;
      for (const output of node.output) {
        for (const consumer of consumers.get(output) ?? []) {
          if (!blocked.has(consumer) && rangeCarryingOps.has(consumer.opType)) {
            blocked.add(consumer);
            queue.push(consumer);
          }
        }
      }
    }
  }
  return blocked;
}

/** Rename a value's producer output and every reader, in every graph (names are unique across scopes). */
function renameValue(graph: GraphProto, from: string, to: string): void {
  for (const node of graph.node) {
    node.input.forEach((name, i) => {
      if (name === from) node.input[i] = to;
    });
    node.output.forEach((name, i) => {
      if (name === from) node.output[i] = to;
    });
    for (const attribute of node.attribute) {
      for (const sub of [attribute.g, ...attribute.graphs]) {
        if (!sub) continue;
        renameValue(sub, from, to);
        for (const output of sub.output) if (output.name === from) output.name = to;
      }
    }
  }
}

/** Float32 → float16 for weights and compute; see ConvertFp16Options. */
export const convertFp16Pass: Pass<ConvertFp16Options> = {
  id: "onnx.convert.fp16",
  version: "2",
  description: "float32 weights and compute to float16 (inputs/outputs kept float32 by default; out-of-range values clamped and counted)",
  inputFormat: "onnx",
  outputFormat: "onnx",
  optionsSchema: convertFp16OptionsSchema,
  searchSpace: { keepIoTypes: [true] },
  defaultOutputName: (inputPath) => suffixedOutputName(inputPath, "_fp16"),
  run(input: Artifact, outputPath: string, options: ConvertFp16Options, context: PassContext): Promise<PassResult> {
    return runStreamedRewrite(convertFp16Pass, input, outputPath, options, context, (inputFile) => rewriteFp16(inputFile, options, context), {});
  },
};

/**
 * The fp16 rewrite of a pass input, in place. Weights read streamed (readPassInput's
 * `streamWeights`) are converted while the output is written; the model and its bytes are the
 * same as from weights read into memory.
 */
export function rewriteFp16(inputFile: PassInputFile, options: ConvertFp16Options, context: Pick<PassContext, "progress" | "logger">): PassLog {
  const converter = new Fp16Converter(inputFile.model, options);
  context.progress?.start("fp16", 1);
  converter.log.notes.push(...inputFile.notes);
  converter.run();
  context.progress?.update(1);
  context.progress?.finish();
  if (!converter.log.counts.tensorsConverted && !converter.log.counts.castsInserted) {
    throw new EdgeforgeError("NOTHING_TO_DO", `${inputFile.path} has no float32 weights or values to convert`, {
      hint: "the model may already be float16",
      details: { path: inputFile.path },
    });
  }
  const clamped = converter.log.counts.valuesClamped ?? 0;
  if (clamped > 0) {
    converter.log.notes.push(`${clamped} weight values beyond ±65504 were clamped to the float16 maximum`);
    context.logger?.warn(`${clamped} weight values were out of float16 range and were clamped`);
  }
  return converter.log;
}
