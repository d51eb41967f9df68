import type { GraphProto, ValueInfoProto } from "onnx-buf";
import { EdgeforgeError } from "../../core/errors.js";
import type { ShapeOverrides } from "../../core/shapes.js";
import type { DtypeTally, ModelSummary } from "../model-inspection.js";
import { analyzeOnnxGraph } from "./analyze-graph.js";
import { classifyOnnxArchitecture, type OnnxArchitecture } from "./classify-architecture.js";
import { countOnnxParameters, type OnnxParameterSources } from "./count-parameters.js";
import { declaredDataType, declaredDims } from "./graph-facts.js";
import { walkGraphs, walkNodes } from "./graph-walk.js";
import { readOnnxModel, type OnnxModelFile } from "./read-onnx.js";
import { onnxDataTypeName, onnxDataTypeToDtype } from "./tensor-data.js";
import type { Dim } from "./value-facts.js";

export interface OnnxValueSpec {
  name: string;
  /** Core dtype name (float32, int64…), or the ONNX name for types without one, or "sequence"/"map"/"optional". */
  dtype: string;
  /** Declared dims: numbers, symbolic names, null for unknown; null when the rank is unknown. */
  shape: Dim[] | null;
}

export interface OnnxMacEstimate {
  /** Multiply-accumulates of MatMul/Gemm/Conv/ConvTranspose nodes whose shapes resolved. */
  total: number;
  byOp: { op: string; macs: number; nodes: number }[];
  resolvedNodes: number;
  unresolvedNodes: number;
  /** Up to 10 unresolved node paths, to show why. */
  unresolvedExamples: string[];
  /** The input dims the estimate used (declared dims with --shape overrides applied). */
  inputShapes: Record<string, Dim[] | null>;
}

export interface OnnxInspection extends ModelSummary {
  format: "onnx";
  architecture: OnnxArchitecture;
  architectureEvidence: string[];
  irVersion: number;
  opsetImports: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  graphName: string;
  /** The model's metadata_props (key → value). */
  metadata: Record<string, string>;
  inputs: OnnxValueSpec[];
  outputs: OnnxValueSpec[];
  /** Nodes in all graphs, subgraphs included. */
  nodeCount: number;
  subgraphCount: number;
  /** Node count per op, most frequent first; ops outside the default domain as "domain.Op". */
  ops: { op: string; count: number }[];
  parameterSources: OnnxParameterSources;
  macs: OnnxMacEstimate;
  /** Quantizable ops: node count, nodes with constant float weights, and those weights' element count. */
  quantizable: { op: string; nodes: number; nodesWithConstantWeights: number; nodesWithQuantizedWeights: number; weightElements: number; quantizedWeightElements: number }[];
  externalData: { files: string[]; tensorCount: number; sizeBytes: number };
  /** Peak of simultaneously live activations (estimate; see memory.method). */
  activations: { peakBytes: number; unresolvedValues: number };
}

export interface InspectOnnxOptions {
  /** Dims for symbolic graph inputs, e.g. { x: [1, 3, 48, 320] }. */
  shapes?: ShapeOverrides;
  signal?: AbortSignal;
}

function valueSpec(info: ValueInfoProto): OnnxValueSpec {
  const type = info.type?.value;
  const dataType = declaredDataType(info);
  const dtype = dataType === undefined ? (type?.case?.replace(/Type$/, "") ?? "unknown") : (onnxDataTypeToDtype(dataType) ?? onnxDataTypeName(dataType));
  return { name: info.name, dtype, shape: declaredDims(info) ?? null };
}

function invalidShape(message: string, details: Record<string, unknown>, hint: string): EdgeforgeError {
  return new EdgeforgeError("INVALID_SHAPE", message, { hint, details });
}

/**
 * Declared input dims with overrides applied: an override names a real input and fits its declared
 * dims, or names a symbolic dimension (`sequence=512`) and sets it wherever it appears.
 */
function resolveInputDims(graph: GraphProto, overrides: ShapeOverrides): Map<string, Dim[]> {
  const initializers = new Set(graph.initializer.map((t) => t.name));
  const inputs = graph.input.filter((input) => !initializers.has(input.name));
  const names = inputs.map((input) => input.name);
  const symbols = new Set(inputs.flatMap((input) => (declaredDims(input) ?? []).filter((d): d is string => typeof d === "string")));
  for (const name of Object.keys(overrides)) {
    if (!names.includes(name) && !(symbols.has(name) && overrides[name]?.length === 1)) {
      throw invalidShape(`--shape names "${name}", which is neither a model input nor a symbolic dimension`, { name, inputs: names }, `the inputs are: ${names.join(", ")}${symbols.size > 0 ? `; dimensions: ${[...symbols].join(", ")}` : ""}`);
    }
  }
  const dims = new Map<string, Dim[]>();
  for (const input of inputs) {
    const declared = declaredDims(input);
    const override = overrides[input.name];
    if (!override) {
      if (declared) dims.set(input.name, declared.map((d) => (typeof d === "string" && !names.includes(d) && overrides[d] ? (overrides[d]?.[0] as number) : d)));
      continue;
    }
    if (declared && declared.length !== override.length) {
      throw invalidShape(`--shape ${input.name} has ${override.length} dims but the input has ${declared.length}`, { name: input.name, declared, override }, "give one size per dimension");
    }
    declared?.forEach((d, i) => {
      if (typeof d === "number" && d !== override[i]) {
        throw invalidShape(`--shape ${input.name}: dim ${i} is fixed at ${d} in the model, not ${override[i]}`, { name: input.name, declared, override }, "only symbolic dims can be overridden");
      }
    });
    dims.set(input.name, override);
  }
  return dims;
}

function opHistogram(graph: GraphProto): { ops: Map<string, number>; nodeCount: number } {
  const ops = new Map<string, number>();
  let nodeCount = 0;
  for (const { node } of walkNodes(graph)) {
    const key = node.domain === "" || node.domain === "ai.onnx" ? node.opType : `${node.domain}.${node.opType}`;
    ops.set(key, (ops.get(key) ?? 0) + 1);
    nodeCount += 1;
  }
  return { ops, nodeCount };
}

const sortedByCount = <T extends { op: string }>(rows: T[], key: (row: T) => number) =>
  rows.sort((a, b) => key(b) - key(a) || a.op.localeCompare(b.op));

/**
 * Describe an ONNX model from its graph alone (no runtime): metadata, inputs/outputs, parameters
 * (initializers and Constant nodes, subgraphs included), op histogram, architecture class with its
 * evidence, MACs from a small shape propagation, the quantizable-op inventory and a memory estimate.
 * External data is located and checked but never read; tensor bytes are counted, not copied.
 */
export async function inspectOnnx(path: string, options: InspectOnnxOptions = {}): Promise<OnnxInspection> {
  const file = await readOnnxModel(path, { loadExternalData: false, signal: options.signal });
  options.signal?.throwIfAborted();
  return inspectOnnxModel(file, options.shapes);
}

/** The inspection of an already-read model (external data need not be loaded). */
export function inspectOnnxModel(file: OnnxModelFile, shapes: ShapeOverrides = {}): OnnxInspection {
  const { model } = file;
  const graph = model.graph;
  if (!graph) throw new EdgeforgeError("CORRUPT_MODEL", `${file.path} has no graph`, { details: { path: file.path } });
  const inputDims = resolveInputDims(graph, shapes);
  const parameters = countOnnxParameters(graph);
  const analysis = analyzeOnnxGraph(graph, inputDims);
  const { ops, nodeCount } = opHistogram(graph);
  const quantizable = sortedByCount([...analysis.quantizable].map(([op, tally]) => ({ op, ...tally })), (row) => row.weightElements);
  const architecture = classifyOnnxArchitecture({
    ops,
    weightElementsByOp: new Map(quantizable.map((row) => [row.op, row.weightElements])),
    attentionPatterns: analysis.attentionPatterns,
    inputNames: graph.input.map((input) => input.name),
    outputNames: graph.output.map((output) => output.name),
  });
  const byDtype: DtypeTally[] = parameters.byDtype;
  const weightsBytes = byDtype.reduce((sum, row) => sum + row.sizeBytes, 0);
  const externalFiles = [...new Set(file.externalTensors.map((ref) => ref.filePath))];
  const initializers = new Set(graph.initializer.map((t) => t.name));
  return {
    format: "onnx",
    path: file.path,
    fileSizeBytes: file.fileSizeBytes,
    parameterCount: parameters.total,
    byDtype,
    architecture: architecture.architecture,
    architectureEvidence: architecture.evidence,
    memory: {
      weightsBytes,
      estimatedRunBytes: weightsBytes + analysis.peakActivationBytes,
      method:
        "estimate: weights as stored + peak of simultaneously live main-graph activations (values freed after their last reader, " +
        "4 bytes per element, shapes from propagation with --shape overrides; values of unknown size count 0); " +
        "runtime arenas, copies and framework overhead are not included",
    },
    irVersion: Number(model.irVersion),
    opsetImports: model.opsetImport.map((opset) => ({ domain: opset.domain === "" ? "ai.onnx" : opset.domain, version: Number(opset.version) })),
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    graphName: graph.name,
    metadata: Object.fromEntries(model.metadataProps.map((entry) => [entry.key, entry.value])),
    inputs: graph.input.filter((input) => !initializers.has(input.name)).map(valueSpec),
    outputs: graph.output.map(valueSpec),
    nodeCount,
    subgraphCount: [...walkGraphs(graph)].length - 1,
    ops: sortedByCount([...ops].map(([op, count]) => ({ op, count })), (row) => row.count),
    parameterSources: parameters.sources,
    macs: {
      total: analysis.macs,
      byOp: sortedByCount([...analysis.macsByOp].map(([op, tally]) => ({ op, ...tally })), (row) => row.macs),
      resolvedNodes: analysis.resolvedMacNodes,
      unresolvedNodes: analysis.unresolvedMacNodes.length,
      unresolvedExamples: analysis.unresolvedMacNodes.slice(0, 10),
      inputShapes: Object.fromEntries(graph.input.filter((input) => !initializers.has(input.name)).map((input) => [input.name, inputDims.get(input.name) ?? null])),
    },
    quantizable,
    externalData: {
      files: externalFiles,
      tensorCount: file.externalTensors.length,
      sizeBytes: file.externalTensors.reduce((sum, ref) => sum + ref.lengthBytes, 0),
    },
    activations: { peakBytes: analysis.peakActivationBytes, unresolvedValues: analysis.unresolvedActivations },
  };
}
