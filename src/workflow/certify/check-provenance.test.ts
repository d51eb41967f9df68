import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { AttributeProtoSchema, AttributeProto_AttributeType, GraphProtoSchema, StringStringEntryProtoSchema } from "onnx-buf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeOnnxModel } from "../../formats/onnx/write-onnx.js";
import { describeArtifactContents } from "../../registry/artifact-store.js";
import { model, node, valueInfo } from "../../../test/fixtures/onnx-test-models.js";
import { makeTempDir } from "../../../test/fixtures/temp-dir.js";
import { checkProvenance } from "./check-provenance.js";
import { parseCertifyRequirements } from "./certify-requirements.js";

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir("provenance-");
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function securityOf(name: string, nodes: Parameters<typeof model>[0], opsets: [string, number][]) {
  const path = join(dir, name);
  await writeFile(path, encodeOnnxModel(model(nodes, { inputs: [valueInfo("x", [2])], outputs: [valueInfo("y", [2])], opsets })));
  const runtime = { runtime: "ort", runtimeVersion: "test", loaded: true };
  return (await checkProvenance(path, "onnx", await describeArtifactContents(path), parseCertifyRequirements({}, "test"), runtime, undefined)).security;
}

describe("checkProvenance: op domains", () => {
  it("judges the domains the nodes use; imports no node uses are reported, not failed (exporters list their own)", async () => {
    // Silero VAD imports ai.onnx.training, com.ms.internal.nhwc, org.pytorch.aten… and uses only ai.onnx.
    const security = await securityOf("imports.onnx", [node("Relu", ["x"], ["y"])], [["", 17], ["com.ms.internal.nhwc", 1], ["org.pytorch.aten", 1]]);
    expect(security.opDomains).toEqual(["ai.onnx"]);
    expect(security.unknownOpDomains).toEqual([]);
    expect(security.unusedOpDomainImports).toEqual(["com.ms.internal.nhwc", "org.pytorch.aten"]);
  });

  it("fails a node of a domain the runtime does not implement, found inside subgraphs too", async () => {
    const branch = (nodes: ReturnType<typeof node>[]) => create(GraphProtoSchema, { name: "b", node: nodes, output: [valueInfo("z", [2])] });
    const iff = node("If", ["c"], ["y"]);
    iff.attribute = [
      create(AttributeProtoSchema, { name: "then_branch", type: AttributeProto_AttributeType.GRAPH, g: branch([node("Scramble", ["x"], ["z"], "org.custom")]) }),
      create(AttributeProtoSchema, { name: "else_branch", type: AttributeProto_AttributeType.GRAPH, g: branch([node("Relu", ["x"], ["z"])]) }),
    ];
    const security = await securityOf("custom.onnx", [iff], [["", 17], ["org.custom", 1]]);
    expect(security.opDomains).toEqual(["ai.onnx", "org.custom"]);
    expect(security.unknownOpDomains).toEqual(["org.custom"]);
    expect(security.unusedOpDomainImports).toEqual([]);
  });
});

describe("checkProvenance: producer", () => {
  async function producerOf(name: string, producerName: string, sourceProducer?: string) {
    const onnx = model([node("Relu", ["x"], ["y"])], { inputs: [valueInfo("x", [2])], outputs: [valueInfo("y", [2])] });
    onnx.producerName = producerName;
    onnx.producerVersion = producerName === "" ? "" : "1.0";
    if (sourceProducer) onnx.metadataProps.push(create(StringStringEntryProtoSchema, { key: "source_producer", value: sourceProducer }));
    const path = join(dir, name);
    await writeFile(path, encodeOnnxModel(onnx));
    const runtime = { runtime: "ort", runtimeVersion: "test", loaded: true };
    return (await checkProvenance(path, "onnx", await describeArtifactContents(path), parseCertifyRequirements({}, "test"), runtime, undefined)).compliance;
  }

  it("reads the exporter; for edgeforge's outputs the source's producer, and edgeforge alone as none", async () => {
    expect(await producerOf("exported.onnx", "pytorch")).toMatchObject({ producer: "pytorch 1.0", producerSource: "model" });
    expect(await producerOf("rewritten.onnx", "edgeforge", "CNTK 2.5.1")).toMatchObject({ producer: "CNTK 2.5.1 (rewritten by edgeforge 1.0)", producerSource: "model" });
    expect(await producerOf("rewritten-anonymous.onnx", "edgeforge")).toMatchObject({ producerSource: "missing" });
    expect((await producerOf("anonymous.onnx", "")).producer).toBeUndefined();
  });
});
