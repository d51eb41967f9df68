import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareLlms, quantizeGguf } from "../../src/api/llm.js";
import { EdgeforgeError } from "../../src/core/errors.js";
import { getGgufNumber } from "../../src/formats/gguf/gguf-metadata.js";
import { readGgufHeader } from "../../src/formats/gguf/read-gguf.js";
import { readGgufAsHf } from "../../src/passes/hf/export-gguf-as-hf.js";
import { llamaQuantizeTypes } from "../../src/toolchain/llama-quantize/llama-quantize-types.js";
import { readImportanceMatrix } from "../../src/toolchain/llama-quantize/read-imatrix.js";
import { calibrationText, heldoutText, llmTestThreads, tinyLlamaF16 } from "../fixtures/llm-models.js";
import { uniformImatrix, writeGgufImatrix, writeLegacyImatrix } from "../fixtures/imatrix-files.js";
import { ggufLogits, ggufTokens, maxAbsDifference } from "../fixtures/llm-test-helpers.js";
import { loadReferenceLlama, referenceForward, type ImatrixSums, type ReferenceLlama } from "../fixtures/reference-llama-forward.js";
import { makeTempDir } from "../fixtures/temp-dir.js";

let dir: string;
let reference: ReferenceLlama;
let sums: ImatrixSums;
const chunkSize = 128;
const chunkCount = 4;

async function errorCode(run: () => Promise<unknown>): Promise<string | undefined> {
  const error = await run().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (error === undefined) return undefined;
  return EdgeforgeError.isInstance(error) ? error.code : String(error);
}

beforeAll(async () => {
  dir = await makeTempDir("quantize-options-");
  const exported = await readGgufAsHf(tinyLlamaF16);
  reference = await loadReferenceLlama(exported.hp, exported.tensors);
  // llama-imatrix statistics from calibration.txt, computed by the TypeScript reference forward pass.
  const tokens = await ggufTokens(tinyLlamaF16, await readFile(calibrationText, "utf8"));
  sums = new Map();
  for (let chunk = 0; chunk < chunkCount; chunk += 1) {
    const part = tokens.slice(chunk * chunkSize, (chunk + 1) * chunkSize);
    part[0] = 1;
    referenceForward(reference, part, { withLogits: false, imatrix: sums });
  }
}, 180_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("llama_model_quantize options", () => {
  it("the IQ family and Q2_K_S: exactly the types marked imatrix-required are refused without one", async () => {
    // Every other type quantizes this model too (checked once for all 35 types; the must-show types run in llm-quantize-eval).
    const lowBit = llamaQuantizeTypes.filter((type) => type.name.startsWith("IQ") || type.name === "Q2_K_S");
    const refused: string[] = [];
    for (const type of lowBit) {
      const output = join(dir, `all-${type.name}.gguf`);
      const code = await errorCode(() => quantizeGguf(tinyLlamaF16, output, { method: type.name, threads: 2 }));
      if (code === "INVALID_OPTION") refused.push(type.name);
      else expect(code, type.name).toBeUndefined();
    }
    expect(refused.sort()).toEqual(llamaQuantizeTypes.filter((type) => type.imatrix === "required").map((type) => type.name).sort());
    expect(refused.sort()).toEqual(["IQ1_M", "IQ1_S", "IQ2_M", "IQ2_S", "IQ2_XS", "IQ2_XXS", "IQ3_XS", "IQ3_XXS", "Q2_K_S"]);
    expect((await readdir(dir)).filter((name) => name.startsWith("all-") || name.endsWith(".tmp")).sort()).toEqual(["all-IQ3_M.gguf", "all-IQ3_S.gguf", "all-IQ4_NL.gguf", "all-IQ4_XS.gguf"]);
  }, 120_000);

  it("leave-output-tensor, tensor-type overrides and token-embedding type land in the output", async () => {
    const output = join(dir, "overrides.gguf");
    await quantizeGguf(tinyLlamaF16, output, { method: "Q4_0", leaveOutputTensor: true, tensorTypes: [{ pattern: "ffn_down", type: "Q8_0" }], tokenEmbeddingType: "Q6_K", threads: 2 });
    const header = await readGgufHeader(output);
    const typeOf = (name: string): string | undefined => header.tensors.find((tensor) => tensor.name === name)?.type;
    expect(typeOf("output.weight")).toBe("F16");
    expect(typeOf("token_embd.weight")).toBe("Q6_K");
    for (let layer = 0; layer < 4; layer += 1) {
      expect(typeOf(`blk.${layer}.ffn_down.weight`)).toBe("Q8_0");
      expect(typeOf(`blk.${layer}.attn_q.weight`)).toBe("Q4_0");
    }
  });

  it("requantizing is refused unless allowed", async () => {
    const q8 = (await quantizeGguf(tinyLlamaF16, join(dir, "q8_0.gguf"), { method: "Q8_0", threads: 2 })).artifact.path;
    expect(await errorCode(() => quantizeGguf(q8, join(dir, "re-q4.gguf"), { method: "Q4_0", threads: 2 }))).toBe("INVALID_OPTION");
    await quantizeGguf(q8, join(dir, "re-q4.gguf"), { method: "Q4_0", allowRequantize: true, threads: 2 });
    expect(getGgufNumber((await readGgufHeader(join(dir, "re-q4.gguf"))).metadata, "general.file_type")).toBe(2);
  });

  it("the TypeScript reference forward pass over the exported Hugging Face layout reproduces llama.cpp's logits", async () => {
    const tokens = (await ggufTokens(tinyLlamaF16, (await readFile(heldoutText, "utf8")).slice(0, 2000))).subarray(0, 32);
    const expected = await ggufLogits(tinyLlamaF16, tokens);
    // llama.cpp rounds activations to F16 inside F16 matmuls; the reference stays float32 (observed ≈ 0.01).
    expect(maxAbsDifference(referenceForward(reference, tokens, { withLogits: true }), expected)).toBeLessThan(0.05);
  });

  it("reads llama-imatrix GGUF and legacy files to the same per-column means", async () => {
    await writeGgufImatrix(join(dir, "calibration.imatrix.gguf"), sums, "calibration.txt", chunkCount, chunkSize);
    await writeLegacyImatrix(join(dir, "calibration.imatrix.dat"), sums, chunkCount);
    const gguf = await readImportanceMatrix(join(dir, "calibration.imatrix.gguf"));
    const legacy = await readImportanceMatrix(join(dir, "calibration.imatrix.dat"));
    expect(gguf).toMatchObject({ format: "gguf", datasets: ["calibration.txt"], chunkCount });
    expect(legacy.format).toBe("legacy");
    expect(gguf.entries.map((entry) => entry.name).sort()).toEqual(legacy.entries.map((entry) => entry.name).sort());
    const entry = gguf.entries.find((candidate) => candidate.name === "blk.2.ffn_down.weight");
    const other = legacy.entries.find((candidate) => candidate.name === "blk.2.ffn_down.weight");
    expect(entry?.values.length).toBe(768);
    const mean = (sums.get("blk.2.ffn_down.weight")?.sums[5] ?? 0) / chunkCount / chunkSize;
    expect(entry?.values[5]).toBeCloseTo(mean, 5);
    expect(Math.abs((other?.values[5] ?? 0) / (entry?.values[5] ?? 1) - 1)).toBeLessThan(1e-5);
  });

  it("an importance matrix unlocks IQ2_XXS, is recorded in the output, and a calibrated one beats a uniform one", async () => {
    const uniform = join(dir, "uniform.imatrix.gguf");
    await writeGgufImatrix(uniform, uniformImatrix(sums), "uniform", chunkCount, chunkSize);
    const calibrated = join(dir, "calibration.imatrix.gguf");
    const withCalibration = await quantizeGguf(tinyLlamaF16, join(dir, "iq2-calibrated.gguf"), { method: "IQ2_XXS", imatrix: calibrated, threads: 2 });
    const withUniform = await quantizeGguf(tinyLlamaF16, join(dir, "iq2-uniform.gguf"), { method: "IQ2_XXS", imatrix: uniform, threads: 2 });
    expect(withCalibration.log.counts.imatrixEntries).toBe(28);
    const metadata = (await readGgufHeader(withCalibration.artifact.path)).metadata;
    expect(getGgufNumber(metadata, "quantize.imatrix.entries_count")).toBe(28);
    expect(getGgufNumber(metadata, "quantize.imatrix.chunks_count")).toBe(chunkCount);
    const [, calibratedEval, uniformEval] = await compareLlms({
      basePath: tinyLlamaF16,
      modelPaths: [withCalibration.artifact.path, withUniform.artifact.path],
      textPath: heldoutText,
      contextSize: 128,
      maxChunks: 6,
      threads: llmTestThreads,
      promptTokens: 0,
      generateTokens: 0,
    });
    expect(calibratedEval?.klDivergence?.mean).toBeLessThan(uniformEval?.klDivergence?.mean as number);
  });
});

describe("gguf.quantize bad input: clear errors, nothing written", () => {
  it("a truncated GGUF, an unknown type, an output equal to the input, a bad imatrix", async () => {
    const truncated = join(dir, "truncated.gguf");
    await writeFile(truncated, (await readFile(tinyLlamaF16)).subarray(0, 200_000));
    const out = join(dir, "bad-input");
    expect(await errorCode(() => quantizeGguf(truncated, join(out, "a.gguf"), { method: "Q4_0" }))).toBe("TRUNCATED_FILE");
    expect(await errorCode(() => quantizeGguf(tinyLlamaF16, join(out, "b.gguf"), { method: "Q4_Z" }))).toBe("INVALID_OPTION");
    expect(await errorCode(() => quantizeGguf(tinyLlamaF16, join(out, "c.gguf"), { method: "Q4_0", tensorTypes: [{ pattern: "ffn_down", type: "Q9" }] }))).toBe("INVALID_OPTION");
    expect(await errorCode(() => quantizeGguf(truncated, truncated, { method: "Q4_0" }))).toBe("TRUNCATED_FILE");
    const copy = join(dir, "copy.gguf");
    await writeFile(copy, await readFile(tinyLlamaF16));
    expect(await errorCode(() => quantizeGguf(copy, copy, { method: "Q4_0" }))).toBe("OUTPUT_EQUALS_INPUT");
    await writeFile(join(dir, "junk.imatrix"), "not an imatrix");
    expect(await errorCode(() => quantizeGguf(tinyLlamaF16, join(out, "d.gguf"), { method: "IQ2_XXS", imatrix: join(dir, "junk.imatrix") }))).toBe("INVALID_OPTION");
    expect(await readdir(dir)).not.toContain("bad-input");
  });
});
