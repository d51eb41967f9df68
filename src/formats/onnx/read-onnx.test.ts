import { toBinary } from "@bufbuild/protobuf";
import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ModelProtoSchema, type ModelProto } from "onnx-buf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgeforgeError } from "../../core/errors.js";
import { externalMatMulModel, tinyMatMulModel } from "../../../test/fixtures/onnx-test-models.js";
import { readOnnxModel } from "./read-onnx.js";
import { getTensorData } from "./tensor-data.js";
import { makeTempDir } from "../../../test/fixtures/temp-dir.js";

let root: string;
let modelDir: string;
const weights = Float32Array.from({ length: 12 }, (_, i) => i);

beforeAll(async () => {
  root = await makeTempDir("onnx-read-");
  modelDir = join(root, "model");
  await mkdir(join(modelDir, "sub"), { recursive: true });
  await writeFile(join(root, "outside.bin"), new Uint8Array(weights.buffer));
  await writeFile(join(modelDir, "weights.bin"), new Uint8Array(weights.buffer));
  // 16 bytes of padding then the weights, to exercise offsets.
  await writeFile(join(modelDir, "sub", "padded.bin"), new Uint8Array([...new Uint8Array(16), ...new Uint8Array(weights.buffer)]));
  await symlink(join(root, "outside.bin"), join(modelDir, "escape.bin"));
  await symlink(join(modelDir, "weights.bin"), join(modelDir, "inside-link.bin"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function saveModel(name: string, m: ModelProto): Promise<string> {
  const path = join(modelDir, name);
  await writeFile(path, toBinary(ModelProtoSchema, m));
  return path;
}

async function errorOf(promise: Promise<unknown>): Promise<EdgeforgeError> {
  try {
    await promise;
  } catch (error) {
    expect(EdgeforgeError.isInstance(error), `not an EdgeforgeError: ${String(error)}`).toBe(true);
    return error as EdgeforgeError;
  }
  throw new Error("expected a rejection");
}

describe("readOnnxModel external data", () => {
  it("loads external tensors into aligned raw_data, honouring offsets", async () => {
    for (const [location, offset] of [["weights.bin", "0"], ["sub/padded.bin", "16"], ["inside-link.bin", "0"]] as const) {
      const path = await saveModel(`ok-${offset}-${location.replace(/\W/g, "")}.onnx`, externalMatMulModel(location, offset, "48"));
      const file = await readOnnxModel(path);
      expect(file.externalTensors).toHaveLength(1);
      const w = file.model.graph!.initializer[0]!;
      expect(w.externalData).toEqual([]);
      expect(Array.from(getTensorData(w) as Float32Array)).toEqual(Array.from(weights));
    }
  });

  it("checks but does not read external tensors when loadExternalData is false", async () => {
    const path = await saveModel("lazy.onnx", externalMatMulModel("weights.bin"));
    const file = await readOnnxModel(path, { loadExternalData: false });
    expect(file.externalDataLoaded).toBe(false);
    expect(file.externalTensors[0]).toMatchObject({ offsetBytes: 0, lengthBytes: 48 });
    expect(() => getTensorData(file.model.graph!.initializer[0]!)).toThrow(/external data that was not loaded/);
  });

  it.each([
    ["../outside.bin", "climbs out"],
    ["sub/../../outside.bin", "climbs out"],
    ["/etc/passwd", "absolute"],
    ["C:\\Windows\\win.ini", "absolute"],
    ["escape.bin", "outside the model's folder"],
    ["we\0ights.bin", "NUL"],
  ])("refuses location %j with UNSAFE_PATH", async (location, reason) => {
    const path = await saveModel("unsafe.onnx", externalMatMulModel(location));
    for (const loadExternalData of [true, false]) {
      const error = await errorOf(readOnnxModel(path, { loadExternalData }));
      expect(error.code).toBe("UNSAFE_PATH");
      expect(error.message).toContain(reason);
    }
  });

  it("refuses a declared range beyond the file before allocating it", async () => {
    const huge = await saveModel("huge-offset.onnx", externalMatMulModel("weights.bin", String(2 ** 40)));
    expect((await errorOf(readOnnxModel(huge))).code).toBe("TRUNCATED_FILE");
    const past = await saveModel("past-end.onnx", externalMatMulModel("weights.bin", "8", "48"));
    expect((await errorOf(readOnnxModel(past))).code).toBe("TRUNCATED_FILE");
    // A 1 TiB tensor whose declared length agrees with its dims: refused from the file size, never allocated.
    const tib = externalMatMulModel("weights.bin", "0", String(2 ** 40));
    tib.graph!.initializer[0]!.dims = [2n ** 38n];
    const tibPath = await saveModel("tib.onnx", tib);
    expect((await errorOf(readOnnxModel(tibPath))).code).toBe("TRUNCATED_FILE");
    const absurd = await saveModel("absurd.onnx", externalMatMulModel("weights.bin", "0", "99999999999999999999999"));
    expect((await errorOf(readOnnxModel(absurd))).code).toBe("LIMIT_EXCEEDED");
  });

  it("refuses a length that disagrees with the tensor's dims, and malformed numbers", async () => {
    const short = await saveModel("short.onnx", externalMatMulModel("weights.bin", "0", "40"));
    expect((await errorOf(readOnnxModel(short))).code).toBe("CORRUPT_MODEL");
    const text = await saveModel("text.onnx", externalMatMulModel("weights.bin", "-4"));
    expect((await errorOf(readOnnxModel(text))).code).toBe("CORRUPT_MODEL");
  });

  it("reports a missing external file as FILE_NOT_FOUND", async () => {
    const path = await saveModel("missing.onnx", externalMatMulModel("nope.bin"));
    expect((await errorOf(readOnnxModel(path))).code).toBe("FILE_NOT_FOUND");
  });
});

describe("readOnnxModel bad input", () => {
  it("types each failure", async () => {
    const empty = join(modelDir, "empty.onnx");
    await writeFile(empty, new Uint8Array(0));
    expect((await errorOf(readOnnxModel(empty))).code).toBe("EMPTY_FILE");
    expect((await errorOf(readOnnxModel(join(modelDir, "absent.onnx")))).code).toBe("FILE_NOT_FOUND");
    expect((await errorOf(readOnnxModel(modelDir))).code).toBe("FILE_READ_FAILED");
  });

  it("refuses protobuf that decodes but is not a model", async () => {
    const noGraph = tinyMatMulModel();
    noGraph.graph = undefined;
    const path = await saveModel("no-graph.onnx", noGraph);
    expect((await errorOf(readOnnxModel(path))).message).toContain("no graph");
    const badIr = tinyMatMulModel();
    badIr.irVersion = 900n;
    const irPath = await saveModel("bad-ir.onnx", badIr);
    expect((await errorOf(readOnnxModel(irPath))).code).toBe("CORRUPT_MODEL");
    // A single varint field 1 = 5 followed by field 2 as a string: valid protobuf, not a model.
    const tiny = join(modelDir, "tiny.onnx");
    await writeFile(tiny, new Uint8Array([0x08, 0x05, 0x12, 0x01, 0x41]));
    expect((await errorOf(readOnnxModel(tiny))).code).toBe("CORRUPT_MODEL");
  });

  it("honours an aborted signal", async () => {
    const path = await saveModel("abort.onnx", tinyMatMulModel());
    const controller = new AbortController();
    controller.abort();
    await expect(readOnnxModel(path, { signal: controller.signal })).rejects.toThrow(/abort/i);
  });
});
