import { TensorProto_DataLocation, TensorProto_DataType as T, type NodeProto, type TensorProto, type ValueInfoProto } from "onnx-buf";
import { getTensorData, tensorElementCount } from "./tensor-data.js";
import { maxTrackedValues, type Dim, type ValueFacts } from "./value-facts.js";

/** A constant known at load time: an initializer or a Constant node's output. */
export interface ConstantInfo {
  dataType: number;
  elementCount: number;
  /** A DequantizeLinear of a constant: the integer type its weight is stored in. */
  storedAs?: number;
}

/** Declared dims of a value_info / graph input: dim_value → number, dim_param → name, else unknown. */
export function declaredDims(info: ValueInfoProto): Dim[] | undefined {
  const type = info.type?.value;
  if (type?.case !== "tensorType" || !type.value.shape) return undefined;
  return type.value.shape.dim.map((d) =>
    d.value.case === "dimValue" ? Number(d.value.value) : d.value.case === "dimParam" && d.value.value !== "" ? d.value.value : null,
  );
}

export function declaredDataType(info: ValueInfoProto): number | undefined {
  const type = info.type?.value;
  return type?.case === "tensorType" ? type.value.elemType : undefined;
}

/** Types whose typed-array elements read directly as numbers (not raw bit patterns). */
const plainNumericTypes = new Set<number>([T.FLOAT, T.DOUBLE, T.INT8, T.UINT8, T.INT16, T.UINT16, T.INT32, T.UINT32, T.INT64, T.UINT64, T.BOOL]);

function smallValues(values: readonly (number | bigint)[]): number[] | undefined {
  return values.length <= maxTrackedValues ? values.map(Number) : undefined;
}

/** Small numeric tensors keep their values for shape arithmetic; large or external ones only their dims. */
export function tensorFacts(tensor: TensorProto): ValueFacts {
  const dims = tensor.dims.map(Number);
  const count = tensorElementCount(tensor);
  if (count > maxTrackedValues || !plainNumericTypes.has(tensor.dataType) || tensor.dataLocation === TensorProto_DataLocation.EXTERNAL) return { dims };
  const data = getTensorData(tensor);
  return { dims, values: Array.from(data as ArrayLike<number | bigint>, Number) };
}

/** Facts and constant info for a Constant node's single output (tensor, sparse or value_* attribute forms). */
export function constantNodeFacts(node: NodeProto): { facts: ValueFacts; constant: ConstantInfo } | undefined {
  const attribute = node.attribute[0];
  if (!attribute) return undefined;
  switch (attribute.name) {
    case "value":
      return attribute.t ? { facts: tensorFacts(attribute.t), constant: { dataType: attribute.t.dataType, elementCount: tensorElementCount(attribute.t) } } : undefined;
    case "sparse_value": {
      const sparse = attribute.sparseTensor;
      if (!sparse?.values) return undefined;
      return { facts: { dims: sparse.dims.map(Number) }, constant: { dataType: sparse.values.dataType, elementCount: tensorElementCount(sparse.values) } };
    }
    case "value_float":
      return { facts: { dims: [], values: [attribute.f] }, constant: { dataType: T.FLOAT, elementCount: 1 } };
    case "value_floats":
      return { facts: { dims: [attribute.floats.length], values: smallValues(attribute.floats) }, constant: { dataType: T.FLOAT, elementCount: attribute.floats.length } };
    case "value_int":
      return { facts: { dims: [], values: [Number(attribute.i)] }, constant: { dataType: T.INT64, elementCount: 1 } };
    case "value_ints":
      return { facts: { dims: [attribute.ints.length], values: smallValues(attribute.ints) }, constant: { dataType: T.INT64, elementCount: attribute.ints.length } };
    case "value_string":
      return { facts: { dims: [] }, constant: { dataType: T.STRING, elementCount: 1 } };
    case "value_strings":
      return { facts: { dims: [attribute.strings.length] }, constant: { dataType: T.STRING, elementCount: attribute.strings.length } };
    default:
      return undefined;
  }
}

/** Fill unknown positions of inferred facts from declared value_info dims. */
export function mergeDeclared(inferred: ValueFacts | undefined, declared: Dim[] | undefined): ValueFacts | undefined {
  if (!declared) return inferred;
  if (!inferred?.dims || inferred.dims.length !== declared.length) return inferred?.dims ? inferred : { ...inferred, dims: declared };
  return { ...inferred, dims: inferred.dims.map((d, i) => (typeof d === "number" ? d : typeof declared[i] === "number" ? declared[i]! : (d ?? declared[i] ?? null))) };
}
