import { create } from "@bufbuild/protobuf";
import { AttributeProtoSchema, AttributeProto_AttributeType, GraphProtoSchema, OperatorSetIdProtoSchema } from "onnx-buf";
import { describe, expect, it } from "vitest";
import { model, node, tinyMatMulModel, valueInfo } from "../../../test/fixtures/onnx-test-models.js";
import { checkOnnxStructure } from "./structure-check.js";

const kinds = (m: Parameters<typeof checkOnnxStructure>[0]) => checkOnnxStructure(m).map((issue) => issue.kind);

describe("checkOnnxStructure", () => {
  it("accepts a sound model, with an omitted optional input", () => {
    const m = tinyMatMulModel();
    expect(checkOnnxStructure(m)).toEqual([]);
    const clip = model([node("Clip", ["X", "", ""], ["Y"])], { inputs: [valueInfo("X", [2])], outputs: [valueInfo("Y", [2])] });
    expect(checkOnnxStructure(clip)).toEqual([]);
  });

  it("reports nodes out of topological order and undefined inputs", () => {
    const m = model([node("Relu", ["A"], ["B"]), node("Relu", ["X"], ["A"]), node("Relu", ["missing"], ["C"])], {
      inputs: [valueInfo("X", [2])],
      outputs: [valueInfo("B", [2])],
    });
    const issues = checkOnnxStructure(m);
    expect(issues.map((i) => [i.kind, i.value])).toEqual([
      ["not-topological", "A"],
      ["undefined-input", "missing"],
    ]);
    expect(issues[0]!.nodePath).toBe("Relu_B");
  });

  it("reports duplicate outputs, unproduced graph outputs and missing opset imports", () => {
    const m = model([node("Relu", ["X"], ["Y"]), node("Relu", ["X"], ["Y"]), node("FusedGemm", ["X", "X"], ["Z"], "com.microsoft")], {
      inputs: [valueInfo("X", [2])],
      outputs: [valueInfo("Y", [2]), valueInfo("nowhere", [2])],
    });
    expect(kinds(m)).toEqual(["duplicate-output", "undefined-graph-output", "missing-opset-import"]);
    m.opsetImport.push(create(OperatorSetIdProtoSchema, { domain: "com.microsoft", version: 1n }));
    expect(kinds(m)).toEqual(["duplicate-output", "undefined-graph-output"]);
  });

  it("resolves subgraph inputs against the outer scope, but only values defined before the If", () => {
    const branch = (input: string, output: string) =>
      create(GraphProtoSchema, { node: [node("Identity", [input], [output])], output: [valueInfo(output, [2])] });
    const ifNode = (input: string) =>
      create(AttributeProtoSchema, { name: "then_branch", type: AttributeProto_AttributeType.GRAPH, g: branch(input, "t") });
    const good = node("If", ["cond"], ["out"]);
    good.attribute = [ifNode("X"), create(AttributeProtoSchema, { name: "else_branch", type: AttributeProto_AttributeType.GRAPH, g: branch("X", "e") })];
    const m = model([node("Identity", ["C"], ["cond"]), good], { inputs: [valueInfo("X", [2]), valueInfo("C", [])], outputs: [valueInfo("out", [2])] });
    expect(checkOnnxStructure(m)).toEqual([]);
    // A branch reading a value the outer graph only produces later is an error, reported at its subgraph path.
    good.attribute[0] = ifNode("late");
    m.graph!.node.push(node("Identity", ["X"], ["late"]));
    const issues = checkOnnxStructure(m);
    expect(issues.map((i) => [i.kind, i.graphPath])).toEqual([["undefined-input", "If_out/then_branch"]]);
  });
});
