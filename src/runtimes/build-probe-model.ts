import { create, toBinary } from "@bufbuild/protobuf";
import {
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorProto_DataType,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
} from "onnx-buf";

/** The probe model: c = a + b over float32[4]; small enough to build in memory, real enough to run. */
export const probeModelInputA = new Float32Array([1, 2, 3, 4]);
export const probeModelInputB = new Float32Array([10, 20, 30, 40]);
export const probeModelExpected = new Float32Array([11, 22, 33, 44]);
export const probeModelLength = 4;

function float32Vector(name: string) {
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: "tensorType",
        value: create(TypeProto_TensorSchema, {
          elemType: TensorProto_DataType.FLOAT,
          shape: create(TensorShapeProtoSchema, {
            dim: [create(TensorShapeProto_DimensionSchema, { value: { case: "dimValue", value: BigInt(probeModelLength) } })],
          }),
        }),
      },
    }),
  });
}

/** ONNX bytes of a single-Add graph (IR 8, opset 13: accepted by every maintained runtime). */
export function buildProbeModel(): Uint8Array {
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    producerName: "edgeforge-runtime-probe",
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: "", version: 13n })],
    graph: create(GraphProtoSchema, {
      name: "probe",
      node: [create(NodeProtoSchema, { name: "add", opType: "Add", input: ["a", "b"], output: ["c"] })],
      input: [float32Vector("a"), float32Vector("b")],
      output: [float32Vector("c")],
    }),
  });
  return toBinary(ModelProtoSchema, model);
}

/** Exact comparison: small integers add exactly in float32 on every backend. */
export function matchesProbeExpectation(values: ArrayLike<number>): boolean {
  return values.length === probeModelLength && Array.from(probeModelExpected).every((expected, index) => values[index] === expected);
}
