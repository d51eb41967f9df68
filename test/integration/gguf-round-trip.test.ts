import { describe, expect, it } from "vitest";
import { hashFileSha256 } from "../../src/core/hashing.js";
import { readGgufHeader } from "../../src/formats/gguf/read-gguf.js";
import { readGgufTensorChunks, readGgufTensorData } from "../../src/formats/gguf/read-gguf-tensor-data.js";
import { writeGguf } from "../../src/formats/gguf/write-gguf.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";

const modelPath = sharedModels.tinyLlamaF16;
const modelSha256 = "ccb8f55913d4daafccac4a48bf7d8d93a7067344d93284944ff908dd281514d6";

const temp = useTempDir("edgeforge-gguf-rt-");

describe("GGUF reader/writer on the real tiny-fortunes model", () => {
  it("reads the header: version, typed metadata, vocabulary arrays, tensor table", async () => {
    const header = await readGgufHeader(modelPath);
    expect(header.version).toBe(3);
    expect(header.alignment).toBe(32);
    expect(header.dataOffset % 32).toBe(0);
    expect(header.metadata.get("general.architecture")).toEqual({ type: "string", value: "llama" });
    expect(header.metadata.get("llama.block_count")).toEqual({ type: "uint32", value: 4 });
    expect(header.metadata.get("general.file_type")).toEqual({ type: "uint32", value: 1 });
    const tokens = header.metadata.get("tokenizer.ggml.tokens");
    expect(tokens?.type === "array" && tokens.itemType).toBe("string");
    expect(tokens?.type === "array" && tokens.items.length).toBe(4096);
    const scores = header.metadata.get("tokenizer.ggml.scores");
    expect(scores?.type === "array" && scores.items).toBeInstanceOf(Float32Array);
    expect(header.tensors).toHaveLength(39);
    const embedding = header.tensors.find((t) => t.name === "token_embd.weight");
    expect(embedding).toMatchObject({ dims: [256, 4096], type: "F16", sizeBytes: 256 * 4096 * 2 });
    // The last tensor ends exactly at the end of the file.
    const ends = header.tensors.map((t) => header.dataOffset + t.offset + t.sizeBytes);
    expect(Math.max(...ends)).toBe(header.fileSizeBytes);
  });

  it("writes the same metadata and tensor bytes back, byte-for-byte identical (sha256)", async () => {
    const header = await readGgufHeader(modelPath);
    const outPath = temp.join("copy.gguf");
    const result = await writeGguf(outPath, {
      metadata: header.metadata,
      // Half the tensors streamed in chunks, half passed whole: both paths must produce the same bytes.
      tensors: await Promise.all(
        header.tensors.map(async (tensor, index) => ({
          name: tensor.name,
          dims: tensor.dims,
          type: tensor.type,
          data: index % 2 === 0 ? () => readGgufTensorChunks(modelPath, header, tensor.name, { chunkBytes: 100_000 }) : await readGgufTensorData(modelPath, header, tensor.name),
        })),
      ),
    });
    expect(result.sizeBytes).toBe(header.fileSizeBytes);
    expect(result.dataOffset).toBe(header.dataOffset);
    expect(await hashFileSha256(outPath)).toBe(modelSha256);
  });
});
