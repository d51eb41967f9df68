import { equals } from "@bufbuild/protobuf";
import { readFile, readdir, stat, writeFile } from "node:fs/promises";
import { ModelProtoSchema, TensorProto_DataLocation } from "onnx-buf";
import { describe, expect, it } from "vitest";
import { EdgeforgeError } from "../../src/core/errors.js";
import { walkGraphs, walkNodes, walkTensors } from "../../src/formats/onnx/graph-walk.js";
import { readOnnxModel } from "../../src/formats/onnx/read-onnx.js";
import { checkOnnxStructure } from "../../src/formats/onnx/structure-check.js";
import { getTensorData } from "../../src/formats/onnx/tensor-data.js";
import { encodeOnnxModel, encodeOnnxModelPieces, isStreamedPiece, writeOnnxModel } from "../../src/formats/onnx/write-onnx.js";
import { readOnnxModelStreamed } from "../../src/formats/onnx/read-onnx-streamed.js";
import { streamedRawData } from "../../src/formats/onnx/streamed-raw-data.js";
import { scanExternalLocations } from "../../src/formats/onnx/scan-external-locations.js";
import { describeOnnxArtifact } from "../../src/passes/onnx/onnx-pass-io.js";
import { hashSha256 } from "../../src/core/hashing.js";
import { realOnnxModels } from "../fixtures/onnx-test-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";

const temp = useTempDir("edgeforge-onnx-rw-");

describe("ONNX read → write → read on real models", () => {
  it.each(Object.entries(realOnnxModels))("%s: re-encodes to identical bytes, structure sound", async (name, path) => {
    const original = await readFile(path);
    const file = await readOnnxModel(path);
    expect(checkOnnxStructure(file.model)).toEqual([]);
    const out = temp.join(`${name}.onnx`);
    const written = await writeOnnxModel(file.model, out);
    expect(written.files).toEqual([out]);
    expect(Buffer.compare(await readFile(out), original)).toBe(0);
    expect(written.sha256).toBe(hashSha256(original));
    // The written weights are views of the model's own tensors, yet the pieces concatenate to the encoder's bytes.
    expect(Buffer.compare(Buffer.concat(encodeOnnxModelPieces(file.model) as Uint8Array[]), Buffer.from(encodeOnnxModel(file.model)))).toBe(0);
    expect(await scanExternalLocations(path)).toEqual([]);
  });

  it.each(Object.entries(realOnnxModels))("%s: read streamed (weights left in the file), written back to identical bytes", async (name, path) => {
    const original = await readFile(path);
    const file = await readOnnxModelStreamed(path, { sha256: true, minStreamedBytes: 1024 });
    expect(file.sha256).toBe(hashSha256(original));
    expect(file.streamedTensorCount).toBeGreaterThan(0);
    const pieces = encodeOnnxModelPieces(file.model);
    // Initializers and Constant node tensors alike are written from their file, never read in.
    const streamedTensors = [...walkTensors(file.model.graph!)].filter((visit) => streamedRawData(visit.tensor));
    expect(pieces.filter(isStreamedPiece)).toHaveLength(streamedTensors.length);
    const out = temp.join(`${name}-streamed.onnx`);
    const written = await writeOnnxModel(file.model, out);
    expect(Buffer.compare(await readFile(out), original)).toBe(0);
    expect(written.sha256).toBe(hashSha256(original));
    expect(streamedTensors.every((visit) => streamedRawData(visit.tensor))).toBe(true);
    // Reading a streamed tensor's values reads them in (the same model as the full reader's).
    const again = await readOnnxModelStreamed(path, { minStreamedBytes: 1024 });
    const streamedTensor = [...again.model.graph!.initializer, ...again.model.graph!.node.flatMap((node) => node.attribute.map((a) => a.t))].find((tensor) => tensor && streamedRawData(tensor))!;
    expect(streamedTensor.rawData.byteLength).toBeGreaterThan(0);
    expect(streamedRawData(streamedTensor)).toBeUndefined();
    expect(equals(ModelProtoSchema, again.model, (await readOnnxModel(path)).model)).toBe(true);
  });

  it("keeps unknown fields (top level and inside the graph)", async () => {
    const original = new Uint8Array(await readFile(realOnnxModels.cls));
    // Field 1000 (varint 42) appended at top level: an unknown field to this schema.
    const withUnknown = new Uint8Array([...original, 0xc0, 0x3e, 0x2a]);
    const path = temp.join("unknown.onnx");
    await writeFile(path, withUnknown);
    const file = await readOnnxModel(path);
    const out = temp.join("unknown-out.onnx");
    await writeOnnxModel(file.model, out);
    expect(Buffer.compare(await readFile(out), withUnknown)).toBe(0);
  });

  it("moves initializers to an aligned .data file and reads back an equal model (VAD, subgraphs included)", async () => {
    const file = await readOnnxModel(realOnnxModels.vad);
    const before = await readFile(realOnnxModels.vad);
    const out = temp.join("vad-external.onnx");
    const written = await writeOnnxModel(file.model, out, { externalData: "auto", externalThresholdBytes: 1000, minExternalTensorBytes: 256 });
    expect(written.externalTensorCount).toBeGreaterThan(10);
    expect(written.files).toEqual([out, `${out}.data`]);
    expect((await stat(`${out}.data`)).size).toBe(written.externalDataBytes);
    // The caller's model is left untouched.
    expect(Buffer.compare(Buffer.from(await writeOnnxModel(file.model, temp.join("vad-again.onnx")).then(() => readFile(temp.join("vad-again.onnx")))), before)).toBe(0);

    // Field headers alone name the data file (subgraph tensors included), without reading the model's bytes.
    expect(await scanExternalLocations(out)).toEqual(["vad-external.onnx.data"]);
    expect((await describeOnnxArtifact(out)).files).toEqual([out, `${out}.data`]);

    const lazy = await readOnnxModel(out, { loadExternalData: false });
    expect(lazy.externalTensors).toHaveLength(written.externalTensorCount);
    for (const ref of lazy.externalTensors) {
      expect(ref.offsetBytes % 64).toBe(0);
      expect(ref.lengthBytes).toBeGreaterThanOrEqual(256);
      expect(ref.tensor.rawData.byteLength).toBe(0);
    }
    const subgraphExternal = lazy.externalTensors.filter((ref) =>
      [...walkGraphs(lazy.model.graph!)].some((scope) => scope.depth > 0 && scope.graph.initializer.includes(ref.tensor)),
    );
    expect(subgraphExternal.length).toBeGreaterThan(0);

    const loaded = await readOnnxModel(out);
    expect(equals(ModelProtoSchema, loaded.model, file.model)).toBe(true);
    expect(checkOnnxStructure(loaded.model)).toEqual([]);
  });

  it('"never" keeps everything embedded, "always" externalizes without a size threshold', async () => {
    const file = await readOnnxModel(realOnnxModels.vad);
    const never = await writeOnnxModel(file.model, temp.join("never.onnx"), { externalData: "never", externalThresholdBytes: 1 });
    expect(never.externalTensorCount).toBe(0);
    const always = await writeOnnxModel(file.model, temp.join("always.onnx"), { externalData: "always" });
    expect(always.externalTensorCount).toBeGreaterThan(0);
    expect(always.modelBytes).toBeLessThan(never.modelBytes);
  });

  it("the header scan gives up on bytes that are not protobuf (the full reader then says why)", async () => {
    const path = temp.join("garbage.onnx");
    await writeFile(path, new Uint8Array([0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]));
    expect(await scanExternalLocations(path)).toBeUndefined();
    const error = await describeOnnxArtifact(path).catch((e: unknown) => e);
    expect(EdgeforgeError.isInstance(error) && error.code).toMatch(/CORRUPT_MODEL|TRUNCATED_FILE/);
  });

  it("refuses to write tensors whose external data was not loaded, leaving no file behind", async () => {
    const file = await readOnnxModel(realOnnxModels.vad);
    await writeOnnxModel(file.model, temp.join("lazy-src.onnx"), { externalData: "always" });
    const lazy = await readOnnxModel(temp.join("lazy-src.onnx"), { loadExternalData: false });
    const target = temp.join("lazy-out.onnx");
    const error = await writeOnnxModel(lazy.model, target).catch((e: unknown) => e);
    expect(EdgeforgeError.isInstance(error) && error.code).toBe("UNSUPPORTED_FEATURE");
    expect((await readdir(temp.path)).filter((f) => f.includes("lazy-out"))).toEqual([]);
  });

  it("walks subgraph nodes and tensors of the VAD If branches", async () => {
    const { model } = await readOnnxModel(realOnnxModels.vad);
    const graphs = [...walkGraphs(model.graph!)];
    expect(graphs.length).toBeGreaterThan(2);
    const lstm = [...walkNodes(model.graph!)].filter((v) => v.node.opType === "LSTM");
    expect(lstm.length).toBeGreaterThan(0);
    for (const visit of lstm) expect(visit.path).toMatch(/^If_25\/(then|else)_branch\/.+\/(then|else)_branch\//);
    const tensors = [...walkTensors(model.graph!)];
    expect(tensors.every((t) => t.tensor.dataLocation !== TensorProto_DataLocation.EXTERNAL)).toBe(true);
    const withData = tensors.filter((t) => t.tensor.rawData.byteLength > 0);
    for (const { tensor } of withData) expect(getTensorData(tensor).byteLength).toBe(tensor.rawData.byteLength);
  });
});
