import type { GraphProto } from "onnx-buf";
import type { DtypeTally } from "../model-inspection.js";
import { constantNodeFacts } from "./graph-facts.js";
import { walkGraphs } from "./graph-walk.js";
import { checkTensorStorage, onnxDataTypeBits, onnxDataTypeName, onnxDataTypeToDtype, tensorElementCount, tensorStoredBytes } from "./tensor-data.js";

export interface OnnxParameterSources {
  initializerTensors: number;
  initializerElements: number;
  /** Constant nodes (value, sparse_value, value_float(s), value_int(s), value_string(s)); PaddleOCR keeps all weights here. */
  constantNodeTensors: number;
  constantNodeElements: number;
  /** Sparse initializers count their stored (non-zero) values. */
  sparseInitializerElements: number;
}

export interface OnnxParameterCount {
  total: number;
  byDtype: DtypeTally[];
  sources: OnnxParameterSources;
}

/**
 * Element counts of every initializer and Constant-node tensor in every graph (subgraphs included),
 * as the ONNX Python package counts parameters. Only dims and stored lengths are read: no tensor
 * bytes are copied.
 */
export function countOnnxParameters(graph: GraphProto): OnnxParameterCount {
  const tallies = new Map<string, DtypeTally>();
  const sources: OnnxParameterSources = {
    initializerTensors: 0,
    initializerElements: 0,
    constantNodeTensors: 0,
    constantNodeElements: 0,
    sparseInitializerElements: 0,
  };
  const add = (dataType: number, elements: number, sizeBytes: number) => {
    const dtype = onnxDataTypeToDtype(dataType) ?? onnxDataTypeName(dataType);
    const tally = tallies.get(dtype) ?? { dtype, parameterCount: 0, sizeBytes: 0 };
    tally.parameterCount += elements;
    tally.sizeBytes += sizeBytes;
    tallies.set(dtype, tally);
  };
  for (const { graph: g } of walkGraphs(graph)) {
    for (const tensor of g.initializer) {
      checkTensorStorage(tensor);
      const elements = tensorElementCount(tensor);
      add(tensor.dataType, elements, tensorStoredBytes(tensor));
      sources.initializerTensors += 1;
      sources.initializerElements += elements;
    }
    for (const sparse of g.sparseInitializer) {
      if (!sparse.values) continue;
      checkTensorStorage(sparse.values);
      const elements = tensorElementCount(sparse.values);
      add(sparse.values.dataType, elements, tensorStoredBytes(sparse.values) + (sparse.indices ? tensorStoredBytes(sparse.indices) : 0));
      sources.sparseInitializerElements += elements;
    }
    for (const node of g.node) {
      if (node.opType !== "Constant" || (node.domain !== "" && node.domain !== "ai.onnx")) continue;
      const attribute = node.attribute[0];
      if (attribute?.t) checkTensorStorage(attribute.t);
      const constant = constantNodeFacts(node);
      if (!constant) continue;
      const { dataType, elementCount } = constant.constant;
      const sizeBytes = attribute?.t ? tensorStoredBytes(attribute.t) : Math.ceil((elementCount * (onnxDataTypeBits(dataType) ?? 0)) / 8);
      add(dataType, elementCount, sizeBytes);
      sources.constantNodeTensors += 1;
      sources.constantNodeElements += elementCount;
    }
  }
  const byDtype = [...tallies.values()].sort((a, b) => b.sizeBytes - a.sizeBytes || a.dtype.localeCompare(b.dtype));
  const total = sources.initializerElements + sources.constantNodeElements + sources.sparseInitializerElements;
  return { total, byDtype, sources };
}
