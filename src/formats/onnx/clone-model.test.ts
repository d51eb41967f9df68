import { create } from "@bufbuild/protobuf";
import { writeFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { AttributeProtoSchema, AttributeProto_AttributeType, GraphProtoSchema, ModelProtoSchema, NodeProtoSchema } from "onnx-buf";
import { describe, expect, it } from "vitest";
import { makeTempDir } from "../../../test/fixtures/temp-dir.js";
import { cloneModel } from "./clone-model.js";
import { fileRange, setStreamedRawData, streamedRawData } from "./streamed-raw-data.js";
import { createTensorProto } from "./tensor-data.js";

describe("cloneModel", () => {
  it("copies deeply and keeps streamed tensors (an initializer and a Constant node's) streamed in both models", async () => {
    const folder = await makeTempDir("clone-model-");
    try {
      const path = join(folder, "weights.bin");
      const bytes = Float32Array.from({ length: 32 }, (_, i) => i);
      await writeFile(path, new Uint8Array(bytes.buffer));
      const initializer = createTensorProto("W", "float32", [4, 4], new Float32Array(16));
      setStreamedRawData(initializer, fileRange(path, 0, 64));
      const constant = createTensorProto("C", "float32", [16], new Float32Array(16));
      setStreamedRawData(constant, fileRange(path, 64, 64));
      const node = create(NodeProtoSchema, { opType: "Constant", output: ["C"], attribute: [create(AttributeProtoSchema, { name: "value", type: AttributeProto_AttributeType.TENSOR, t: constant })] });
      const model = create(ModelProtoSchema, { graph: create(GraphProtoSchema, { node: [node], initializer: [initializer] }) });

      const copy = cloneModel(model);
      const [copiedInitializer, copiedConstant] = [copy.graph!.initializer[0]!, copy.graph!.node[0]!.attribute[0]!.t!];
      // Both sides still streamed: nothing was read into memory by the copy.
      for (const tensor of [initializer, constant, copiedInitializer, copiedConstant]) expect(streamedRawData(tensor)).toBeDefined();
      // (Not `not.toBe`: on two different objects it compares them deeply, which reads raw_data in.)
      expect(copiedInitializer === initializer).toBe(false);
      expect(Array.from(new Float32Array(streamedRawData(copiedConstant)!.readAll().buffer))).toEqual(Array.from(bytes.subarray(16)));
      // A deep copy: renaming in the copy leaves the original alone.
      copiedInitializer.name = "renamed";
      expect(initializer.name).toBe("W");
      expect(Array.from(new Float32Array(streamedRawData(initializer)!.readAll().buffer))).toEqual(Array.from(bytes.subarray(0, 16)));
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
