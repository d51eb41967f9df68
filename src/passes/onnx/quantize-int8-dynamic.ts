import { TensorProto_DataType as T, type GraphProto, type ModelProto, type NodeProto } from "onnx-buf";
import { z } from "zod";
import type { Artifact } from "../../core/artifact.js";
import { EdgeforgeError } from "../../core/errors.js";
import type { QuantizedTensor } from "../../kernels/linear-quantization.js";
import { quantizePerChannel, quantizePerTensor } from "../../kernels/weight-quantization.js";
import { transposeMatrix } from "../../kernels/blockwise-int4.js";
import { attributeInt } from "../../formats/onnx/node-attributes.js";
import { streamedRawData } from "../../formats/onnx/streamed-raw-data.js";
import type { Pass, PassContext, PassLog, PassResult } from "../pass.js";
import { findCandidateNodes, ScopeTally, SkipLog, type CandidateNode } from "./candidate-nodes.js";
import { excludeNodesOption, externalDataOption, suffixedOutputName } from "./common-options.js";
import { inferElementTypes, type ElementTypes } from "./element-types.js";
import { readFloat32, tensorDims, withFloat32 } from "./float-tensors.js";
import { ConstantIndex, defaultOpsetVersion, ensureOpsetImport, intAttribute, makeNode, NameAllocator, removeUnusedConstants, type ConstantRef } from "./graph-edit.js";
import { InitializerStore } from "./initializer-store.js";
import { addCount, emptyLog, runStreamedRewrite, type PassInputFile } from "./onnx-pass-io.js";
import { quantizeStreamedWeight } from "./streamed-weights.js";

export const quantizeInt8DynamicOptionsSchema = z.object({
  opTypes: z
    .array(z.enum(["MatMul", "Gemm", "Conv", "LSTM"]))
    .default(["MatMul", "Gemm", "LSTM"])
    .describe("ops whose weights are quantized, in the main graph and inside If/Loop/Scan subgraphs; LSTM becomes com.microsoft.DynamicQuantizeLSTM (int8 W and R); Conv (ConvInteger) needs ai.onnx opset ≥ 11 and is often slower on CPU"),
  perChannel: z.boolean().default(false).describe("one scale per output channel instead of one per weight tensor"),
  weightType: z.enum(["int8", "uint8"]).default("int8").describe("int8 weights are symmetric (zero point 0), uint8 asymmetric; Conv always uses uint8"),
  reduceRange: z.boolean().default(false).describe("7-bit weights, for CPUs without VNNI where 8-bit u8s8 products can saturate"),
  excludeNodes: excludeNodesOption,
  externalData: externalDataOption,
});

export type QuantizeInt8DynamicOptions = z.output<typeof quantizeInt8DynamicOptionsSchema>;

function weightsOf(tensor: Pick<QuantizedTensor, "scales" | "zeroPoints">, type: "int8" | "uint8", perTensorScalar: boolean): { suffix: string; dtype: "int8" | "uint8" | "float32"; dims: number[]; data: Int8Array | Uint8Array | Float32Array }[] {
  const dims = perTensorScalar ? [] : [tensor.scales.length];
  return [
    { suffix: "_scale", dtype: "float32", dims, data: tensor.scales },
    { suffix: "_zero_point", dtype: type, dims, data: tensor.zeroPoints },
  ];
}

class DynamicQuantizer {
  readonly skips = new SkipLog();
  private readonly names: NameAllocator;
  private readonly constants: ConstantIndex;
  readonly store: InitializerStore;
  private readonly types: { main: ElementTypes; subgraphs: Map<GraphProto, ElementTypes> };
  private readonly opset: number;

  constructor(private readonly model: ModelProto, private readonly options: QuantizeInt8DynamicOptions) {
    this.names = new NameAllocator(model);
    this.constants = new ConstantIndex(model);
    this.store = new InitializerStore(this.names);
    const inferred = inferElementTypes(model.graph!);
    this.types = { main: inferred.types, subgraphs: inferred.subgraphs };
    this.opset = defaultOpsetVersion(model);
  }

  private typesFor(graph: GraphProto): ElementTypes {
    return graph === this.model.graph ? this.types.main : this.types.subgraphs.get(graph)!;
  }

  /** A constant float32 weight of the wanted rank at `name`, or the reason it is not one. */
  private weight(candidate: CandidateNode, name: string | undefined, rank: number): ConstantRef | string {
    const ref = name ? this.constants.resolve(candidate.graph, name) : undefined;
    if (!ref) return "weight is not a constant";
    if (ref.tensor.dataType !== T.FLOAT) return "weight is not float32";
    if (ref.tensor.dims.length !== rank) return `weight is not ${rank}-D`;
    return ref;
  }

  /** Quantize B [K, N] for DynamicQuantizeMatMul (per column when perChannel) and return its three names. */
  private matmulWeight(ref: ConstantRef, transpose: boolean): string[] {
    const { weightType, perChannel, reduceRange } = this.options;
    return this.store.addOnce(ref.graph, ref.tensor.name, `dqmm|${transpose}|${perChannel}|${weightType}|${reduceRange}`, () => {
      const [rows, cols] = tensorDims(ref.tensor) as [number, number];
      const dims = transpose ? [cols, rows] : [rows, cols];
      const scale = { type: weightType, symmetric: weightType === "int8", reduceRange };
      const streamed = transpose ? undefined : streamedRawData(ref.tensor);
      if (streamed) {
        const q = quantizeStreamedWeight(streamed, scale, perChannel ? cols : undefined);
        return { tensors: [{ suffix: "_quantized", dtype: weightType, dims, data: q.data }, ...weightsOf(q, weightType, !perChannel)], floatBytes: streamed.byteLength };
      }
      return withFloat32(ref.tensor, (source) => {
        const data = transpose ? transposeMatrix(source, rows, cols) : source;
        const q = perChannel ? quantizePerChannel(data, dims, 1, scale) : quantizePerTensor(data, scale);
        return {
          tensors: [{ suffix: "_quantized", dtype: weightType, dims, data: q.data }, ...weightsOf(q, weightType, !perChannel)],
          floatBytes: source.byteLength,
        };
      });
    });
  }

  rewrite(candidate: CandidateNode): NodeProto[] | string {
    const { node } = candidate;
    if (!this.typesFor(candidate.graph).isFloat32(node.input[0] ?? "")) return "input is not float32";
    if (node.opType === "MatMul") return this.rewriteMatMul(candidate);
    if (node.opType === "Gemm") return this.rewriteGemm(candidate);
    if (node.opType === "LSTM") return this.rewriteLstm(candidate);
    return this.rewriteConv(candidate);
  }

  private rewriteMatMul(candidate: CandidateNode): NodeProto[] | string {
    const { node } = candidate;
    const ref = this.weight(candidate, node.input[1], 2);
    if (typeof ref === "string") return ref;
    const [b, scale, zero] = this.matmulWeight(ref, false);
    return [makeNode({ opType: "DynamicQuantizeMatMul", domain: "com.microsoft", name: this.names.allocate(`${candidate.id}_quant`), inputs: [node.input[0]!, b!, scale!, zero!], outputs: [node.output[0]!] })];
  }

  private rewriteGemm(candidate: CandidateNode): NodeProto[] | string {
    const { node } = candidate;
    if (attributeInt(node, "transA", 0) !== 0) return "Gemm with transA is not supported";
    if (node.attribute.some((a) => a.name === "alpha" && a.f !== 1)) return "Gemm with alpha ≠ 1";
    const ref = this.weight(candidate, node.input[1], 2);
    if (typeof ref === "string") return ref;
    const n = Number(ref.tensor.dims[attributeInt(node, "transB", 0) === 1 ? 0 : 1]);
    let bias: string | undefined;
    if (node.input[2]) {
      const biasRef = this.constants.resolve(candidate.graph, node.input[2]);
      const beta = node.attribute.find((a) => a.name === "beta");
      if (!biasRef || biasRef.tensor.dataType !== T.FLOAT || (beta && beta.f !== 1)) return "Gemm bias is not a constant float32 with beta 1";
      const values = readFloat32(biasRef.tensor);
      if (values.length !== n) return "Gemm bias is not one value per output";
      bias = biasRef.tensor.dims.length === 1 ? node.input[2] : this.store.add(candidate.graph, biasRef.tensor.name, { suffix: "_vector", dtype: "float32", dims: [n], data: values });
    }
    const [b, scale, zero] = this.matmulWeight(ref, attributeInt(node, "transB", 0) === 1);
    return [makeNode({ opType: "DynamicQuantizeMatMul", domain: "com.microsoft", name: this.names.allocate(`${candidate.id}_quant`), inputs: [node.input[0]!, b!, scale!, zero!, ...(bias ? [bias] : [])], outputs: [node.output[0]!] })];
  }

  /**
   * LSTM → com.microsoft.DynamicQuantizeLSTM, laid out as onnxruntime's kernel reads it: W [D, 4H, I] and
   * R [D, 4H, H] become int8 [D, I, 4H] / [D, H, 4H] (each direction transposed), symmetric (the kernel
   * needs zero points 0 for int8), one scale per direction or per direction and gate row (perChannel).
   */
  private rewriteLstm(candidate: CandidateNode): NodeProto[] | string {
    const { node } = candidate;
    if (attributeInt(node, "layout", 0) !== 0) return "LSTM with layout 1 (batch first) has no DynamicQuantizeLSTM form";
    const hidden = attributeInt(node, "hidden_size", 0);
    const w = this.weight(candidate, node.input[1], 3);
    if (typeof w === "string") return `LSTM W: ${w}`;
    const r = this.weight(candidate, node.input[2], 3);
    if (typeof r === "string") return `LSTM R: ${r}`;
    const [directions, gates] = tensorDims(w.tensor);
    const rDims = tensorDims(r.tensor);
    if (hidden <= 0 || gates !== 4 * hidden || rDims[0] !== directions || rDims[1] !== gates || rDims[2] !== hidden) return "LSTM W/R shapes do not match hidden_size";
    const [wq, wScale, wZero] = this.lstmWeight(w);
    const [rq, rScale, rZero] = this.lstmWeight(r);
    const optional = [3, 4, 5, 6, 7].map((slot) => node.input[slot] ?? "");
    const attributes = node.attribute.filter((a) => a.name !== "layout");
    return [
      makeNode({
        opType: "DynamicQuantizeLSTM",
        domain: "com.microsoft",
        name: this.names.allocate(`${candidate.id}_quant`),
        inputs: [node.input[0]!, wq!, rq!, ...optional, wScale!, wZero!, rScale!, rZero!],
        outputs: [...node.output],
        attributes,
      }),
    ];
  }

  private lstmWeight(ref: ConstantRef): string[] {
    const { perChannel, reduceRange } = this.options;
    return this.store.addOnce(ref.graph, ref.tensor.name, `dqlstm|${perChannel}|${reduceRange}`, () => {
      const [directions, gates, inner] = tensorDims(ref.tensor) as [number, number, number];
      const scale = { type: "int8" as const, symmetric: true, reduceRange };
      const quantized = new Int8Array(directions * gates * inner);
      const scales = new Float32Array(perChannel ? directions * gates : directions);
      return withFloat32(ref.tensor, (source) => {
        for (let d = 0; d < directions; d++) {
          const block = transposeMatrix(source.subarray(d * gates * inner, (d + 1) * gates * inner), gates, inner);
          const q = perChannel ? quantizePerChannel(block, [inner, gates], 1, scale) : quantizePerTensor(block, scale);
          quantized.set(q.data, d * gates * inner);
          scales.set(q.scales, d * q.scales.length);
        }
        const paramDims = perChannel ? [directions, gates] : [directions];
        return {
          tensors: [
            { suffix: "_quantized", dtype: "int8", dims: [directions, inner, gates], data: quantized },
            { suffix: "_scale", dtype: "float32", dims: paramDims, data: scales },
            { suffix: "_zero_point", dtype: "int8", dims: paramDims, data: new Int8Array(scales.length) },
          ],
          floatBytes: source.byteLength,
        };
      });
    });
  }

  /** DynamicQuantizeLinear → ConvInteger → Cast → Mul(x_scale · w_scale) [→ Add bias], as onnxruntime's quantizer builds it. */
  private rewriteConv(candidate: CandidateNode): NodeProto[] | string {
    const { node, graph } = candidate;
    if (this.opset < 11) return "dynamic Conv needs ai.onnx opset ≥ 11 (DynamicQuantizeLinear)";
    const wName = node.input[1];
    const ref = wName ? this.constants.resolve(graph, wName) : undefined;
    if (!ref || ref.tensor.dataType !== T.FLOAT || ref.tensor.dims.length < 3) return "weight is not a constant float32 filter";
    const dims = tensorDims(ref.tensor);
    const channels = dims[0]!;
    const spatialOnes = dims.slice(2).map(() => 1);
    const { perChannel, reduceRange } = this.options;
    const [w, wScale, wZero] = this.store.addOnce(ref.graph, ref.tensor.name, `convint|${perChannel}|${reduceRange}`, () => {
      // ConvInteger takes only a scalar weight zero point: per-channel scales are symmetric, all at 128.
      const scale = { type: "uint8" as const, symmetric: perChannel, reduceRange };
      const streamed = perChannel ? undefined : streamedRawData(ref.tensor);
      const q = streamed ? quantizeStreamedWeight(streamed, scale) : perChannel ? quantizePerChannel(readFloat32(ref.tensor), dims, 0, scale) : quantizePerTensor(readFloat32(ref.tensor), scale);
      return {
        tensors: [
          { suffix: "_quantized", dtype: "uint8", dims, data: q.data },
          { suffix: "_scale", dtype: "float32", dims: perChannel ? [channels, ...spatialOnes] : [], data: q.scales },
          { suffix: "_zero_point", dtype: "uint8", dims: [], data: q.zeroPoints.subarray(0, 1) },
        ],
        floatBytes: streamed?.byteLength ?? q.data.byteLength * 4,
      };
    });
    const id = candidate.id;
    const out = (suffix: string) => this.names.allocate(`${id}${suffix}`);
    const [xq, xScale, xZero, yInt, yFloat, scaleProduct] = [out("_x_quantized"), out("_x_scale"), out("_x_zero_point"), out("_int32"), out("_float"), out("_scale_product")];
    const nodes = [
      makeNode({ opType: "DynamicQuantizeLinear", name: out("_quantize_input"), inputs: [node.input[0]!], outputs: [xq, xScale, xZero] }),
      makeNode({ opType: "ConvInteger", name: out("_conv_integer"), inputs: [xq, w!, xZero, wZero!], outputs: [yInt], attributes: node.attribute }),
      makeNode({ opType: "Cast", name: out("_cast"), inputs: [yInt], outputs: [yFloat], attributes: [intAttribute("to", T.FLOAT)] }),
      makeNode({ opType: "Mul", name: out("_scales"), inputs: [xScale, wScale!], outputs: [scaleProduct] }),
    ];
    const bias = node.input[2];
    if (!bias) {
      nodes.push(makeNode({ opType: "Mul", name: out("_rescale"), inputs: [yFloat, scaleProduct], outputs: [node.output[0]!] }));
      return nodes;
    }
    const biasRef = this.constants.resolve(graph, bias);
    if (!biasRef || biasRef.tensor.dataType !== T.FLOAT) return "Conv bias is not a constant float32";
    const biasShaped = this.store.add(graph, biasRef.tensor.name, { suffix: "_broadcast", dtype: "float32", dims: [channels, ...spatialOnes], data: readFloat32(biasRef.tensor) });
    const scaled = out("_scaled");
    nodes.push(makeNode({ opType: "Mul", name: out("_rescale"), inputs: [yFloat, scaleProduct], outputs: [scaled] }));
    nodes.push(makeNode({ opType: "Add", name: out("_bias"), inputs: [scaled, biasShaped], outputs: [node.output[0]!] }));
    return nodes;
  }
}

/** Replace each quantized node in place (same position keeps the graph topologically ordered). */
export function replaceNode(graph: GraphProto, node: NodeProto, replacement: NodeProto[]): void {
  const index = graph.node.indexOf(node);
  graph.node.splice(index, 1, ...replacement);
}

/**
 * Rewrite every candidate of `options.opTypes` (any graph) into its dynamic int8 form in place, noting
 * each in `tally`; returns how many were rewritten, the skips, and the weight bytes replaced.
 */
export function rewriteDynamic(model: ModelProto, options: QuantizeInt8DynamicOptions, tally: ScopeTally, context?: Pick<PassContext, "progress" | "signal">): { quantized: number; skips: SkipLog; store: InitializerStore } {
  const quantizer = new DynamicQuantizer(model, options);
  const candidates = findCandidateNodes(model, { opTypes: options.opTypes, excludeNodes: options.excludeNodes }, quantizer.skips);
  context?.progress?.start("quantize int8-dynamic", candidates.length);
  let quantized = 0;
  for (const [index, candidate] of candidates.entries()) {
    context?.signal?.throwIfAborted();
    const result = quantizer.rewrite(candidate);
    if (typeof result === "string") {
      quantizer.skips.skip(candidate.id, result);
      tally.kept(candidate.scopePath, candidate.id, result);
    } else {
      replaceNode(candidate.graph, candidate.node, result);
      tally.quantized(candidate.scopePath, candidate.node.opType);
      quantized++;
    }
    context?.progress?.update(index + 1, candidate.id);
  }
  context?.progress?.finish(`${quantized} nodes quantized`);
  return { quantized, skips: quantizer.skips, store: quantizer.store };
}

/** MatMul/Gemm/LSTM (and optionally Conv) weights to int8, in every graph; activations quantized at run time. */
export const quantizeInt8DynamicPass: Pass<QuantizeInt8DynamicOptions> = {
  id: "onnx.quantize.int8-dynamic",
  version: "3",
  description: "weights of MatMul/Gemm/LSTM (optionally Conv) to int8, inside If/Loop/Scan subgraphs too, activations quantized at run time (com.microsoft.DynamicQuantizeMatMul, DynamicQuantizeLSTM, ConvInteger)",
  inputFormat: "onnx",
  outputFormat: "onnx",
  optionsSchema: quantizeInt8DynamicOptionsSchema,
  searchSpace: { perChannel: [false, true], weightType: ["int8", "uint8"] },
  defaultOutputName: (inputPath) => suffixedOutputName(inputPath, "_int8"),
  run(input: Artifact, outputPath: string, options: QuantizeInt8DynamicOptions, context: PassContext): Promise<PassResult> {
    return runStreamedRewrite(quantizeInt8DynamicPass, input, outputPath, options, context, (inputFile) => rewriteInt8Dynamic(inputFile, options, context));
  },
};

/**
 * The int8-dynamic rewrite of a pass input, in place. Weights read streamed (readPassInput's
 * `streamWeights`) are quantized while the output is written; the model and its bytes are the
 * same as from weights read into memory.
 */
export function rewriteInt8Dynamic(inputFile: PassInputFile, options: QuantizeInt8DynamicOptions, context: Pick<PassContext, "progress" | "signal">): PassLog {
  const model = inputFile.model;
  const tally = new ScopeTally();
  const { quantized, skips, store } = rewriteDynamic(model, options, tally, context);
  if (quantized === 0) {
    throw new EdgeforgeError("NOTHING_TO_DO", `${inputFile.path} has no ${options.opTypes.join("/")} node with a constant float32 weight to quantize`, {
      hint: options.opTypes.includes("Conv") ? "the model may already be quantized" : "for convolutional models add Conv (--op-types MatMul,Gemm,LSTM,Conv) or use int8-static",
      details: { path: inputFile.path, skipped: skips.skipped.slice(0, 20) },
    });
  }
  ensureOpsetImport(model, "com.microsoft", 1);
  removeUnusedConstants(model);
  const log = emptyLog(inputFile.notes);
  addCount(log, "nodesQuantized", quantized);
  addCount(log, "weightBytesBefore", store.floatBytes);
  addCount(log, "weightBytesAfter", store.quantizedBytes);
  tally.writeTo(log);
  skips.writeTo(log);
  return log;
}
