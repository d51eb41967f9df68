import { fromBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema } from "onnx-buf";
import { describe, expect, it } from "vitest";
import { buildProbeModel, matchesProbeExpectation, probeModelExpected } from "./build-probe-model.js";

describe("buildProbeModel", () => {
  it("encodes a valid single-Add ONNX model that decodes back", () => {
    const model = fromBinary(ModelProtoSchema, buildProbeModel());
    expect(model.irVersion).toBe(8n);
    expect(model.opsetImport.map((opset) => [opset.domain, opset.version])).toEqual([["", 13n]]);
    expect(model.graph?.node.map((node) => [node.opType, node.input, node.output])).toEqual([["Add", ["a", "b"], ["c"]]]);
    expect(model.graph?.input.map((input) => input.name)).toEqual(["a", "b"]);
  });

  it("accepts only the exact expected sums", () => {
    expect(matchesProbeExpectation(probeModelExpected)).toBe(true);
    expect(matchesProbeExpectation(new Float32Array([11, 22, 33, 45]))).toBe(false);
    expect(matchesProbeExpectation(new Float32Array([11, 22, 33]))).toBe(false);
  });
});
