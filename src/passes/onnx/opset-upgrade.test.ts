import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { AttributeProtoSchema, AttributeProto_AttributeType, GraphProtoSchema, ModelProtoSchema, NodeProtoSchema, OperatorSetIdProtoSchema } from "onnx-buf";
import { getTensorData } from "../../formats/onnx/tensor-data.js";
import { NameAllocator } from "./graph-edit.js";
import { upgradeOpsetTo10 } from "./opset-upgrade.js";

function ints(name: string, values: number[]) {
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INTS, ints: values.map(BigInt) });
}

describe("opset 9 → 10", () => {
  it("moves Slice's starts/ends/axes attributes to int64 inputs and bumps the import", () => {
    const slice = create(NodeProtoSchema, { opType: "Slice", name: "s", input: ["x"], output: ["y"], attribute: [ints("starts", [1]), ints("ends", [3]), ints("axes", [2])] });
    const model = create(ModelProtoSchema, {
      irVersion: 4n,
      opsetImport: [create(OperatorSetIdProtoSchema, { domain: "", version: 9n })],
      graph: create(GraphProtoSchema, { node: [slice] }),
    });
    expect(upgradeOpsetTo10(model, new NameAllocator(model), "m.onnx")).toBe(9);
    expect(model.opsetImport[0]!.version).toBe(10n);
    expect(slice.attribute).toEqual([]);
    expect(slice.input.length).toBe(4);
    const values = slice.input.slice(1).map((name) => Array.from(getTensorData(model.graph!.initializer.find((t) => t.name === name)!) as BigInt64Array));
    expect(values).toEqual([[1n], [3n], [2n]]);
    expect(upgradeOpsetTo10(model, new NameAllocator(model), "m.onnx")).toBeUndefined();
  });

  it("turns Upsample (deprecated at 10) into Resize-10, its same-semantics successor", () => {
    const upsample = create(NodeProtoSchema, { opType: "Upsample", input: ["x", "s"], output: ["y"] });
    const model = create(ModelProtoSchema, {
      irVersion: 4n,
      opsetImport: [create(OperatorSetIdProtoSchema, { domain: "", version: 9n })],
      graph: create(GraphProtoSchema, { node: [upsample] }),
    });
    upgradeOpsetTo10(model, new NameAllocator(model), "m.onnx");
    expect(upsample.opType).toBe("Resize");
    expect(upsample.input).toEqual(["x", "s"]);
  });

  it("refuses opsets below 7 (legacy broadcast attributes)", () => {
    const model = create(ModelProtoSchema, {
      irVersion: 3n,
      opsetImport: [create(OperatorSetIdProtoSchema, { domain: "", version: 6n })],
      graph: create(GraphProtoSchema, { node: [] }),
    });
    expect(() => upgradeOpsetTo10(model, new NameAllocator(model), "m.onnx")).toThrow(expect.objectContaining({ code: "UNSUPPORTED_OP" }));
  });
});
