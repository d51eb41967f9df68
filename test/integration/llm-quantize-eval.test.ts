import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareLlms, quantizeGguf, type LlmEvaluation } from "../../src/api/llm.js";
import { ggmlTensorBytes } from "../../src/formats/gguf/ggml-types.js";
import { readGgufHeader, type GgufHeader } from "../../src/formats/gguf/read-gguf.js";
import { openLlamaCppSession } from "../../src/runtimes/llama-cpp/llama-cpp-runtime.js";
import { heldoutText, llamaCppReference, llmTestThreads, tinyLlamaF16 } from "../fixtures/llm-models.js";
import { makeTempDir } from "../fixtures/temp-dir.js";

const methods = ["Q8_0", "Q6_K", "Q4_K_M", "Q4_0"] as const;
type Method = (typeof methods)[number];

/** Perplexity increase over F16 on the same tokens that each type must stay within (relative). Observed: +0.02%, +0.03%, +0.16%, +0.20%. */
const perplexityBounds: Record<Method, number> = { Q8_0: 0.005, Q6_K: 0.01, Q4_K_M: 0.03, Q4_0: 0.05 };

let dir: string;
const outputs = new Map<Method, string>();
const runNotes = new Map<Method, string | undefined>();
let evaluations: Map<string, LlmEvaluation>;

beforeAll(async () => {
  dir = await makeTempDir("llm-");
  for (const method of methods) {
    const result = await quantizeGguf(tinyLlamaF16, join(dir, `tiny-${method}.gguf`), { method, threads: 2 });
    outputs.set(method, result.artifact.path);
    runNotes.set(method, result.log.notes.find((note) => note.startsWith("output loaded and run once")));
  }
  const results = await compareLlms({
    basePath: tinyLlamaF16,
    modelPaths: methods.map((method) => outputs.get(method) as string),
    textPath: heldoutText,
    contextSize: 128,
    maxChunks: 24,
    threads: llmTestThreads,
    promptTokens: 64,
    generateTokens: 16,
    repetitions: 1,
  });
  evaluations = new Map(results.map((evaluation) => [evaluation.model.fileType ?? "?", evaluation]));
}, 600_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function weightBytes(header: GgufHeader): number {
  return header.tensors.reduce((sum, tensor) => sum + (ggmlTensorBytes(tensor.type, tensor.elementCount) ?? Number.NaN), 0);
}

describe("gguf.quantize with llama.cpp's llama_model_quantize on tiny-fortunes F16", () => {
  it("produces exactly llama-quantize's file sizes (MODELS.md)", async () => {
    for (const method of methods) {
      const header = await readGgufHeader(outputs.get(method) as string);
      expect(header.fileSizeBytes, method).toBe(llamaCppReference.sizesBytes[method]);
    }
  });

  it("Q4_K_M is smaller than F16 by its bits-per-weight ratio", async () => {
    const f16 = await readGgufHeader(tinyLlamaF16);
    const q4km = await readGgufHeader(outputs.get("Q4_K_M") as string);
    const parameters = f16.tensors.reduce((sum, tensor) => sum + tensor.elementCount, 0);
    const bpwF16 = (weightBytes(f16) * 8) / parameters;
    const bpwQ4km = (weightBytes(q4km) * 8) / parameters;
    // F16 matrices with F32 norms; Q4_K (4.5 bpw) with Q6_K (6.5625 bpw) for attn_v/ffn_down halves and output.weight.
    expect(bpwF16).toBeCloseTo(16.0, 1);
    expect(bpwQ4km).toBeGreaterThan(4.5);
    expect(bpwQ4km).toBeLessThan(5.2);
    // File = header + weights (each tensor padded to 32 bytes; these tensors are already multiples).
    expect(q4km.fileSizeBytes).toBe(q4km.dataOffset + weightBytes(q4km));
    expect(f16.fileSizeBytes).toBe(f16.dataOffset + weightBytes(f16));
    expect(weightBytes(q4km) / weightBytes(f16)).toBeCloseTo(bpwQ4km / bpwF16, 12);
    expect(q4km.fileSizeBytes / f16.fileSizeBytes).toBeLessThan(0.33);
  });

  it("the pass itself loads and runs every output in llama.cpp before it reports success, with a sanity perplexity", () => {
    for (const method of methods) {
      const note = runNotes.get(method);
      expect(note, method).toMatch(/^output loaded and run once in llama\.cpp \(node-llama-cpp [\d.]+\): perplexity [\d.e+]+ on 30 tokens of a short English text/);
      expect(note, method).not.toContain("worse than guessing");
    }
  });

  it("every output loads in node-llama-cpp and generates text", async () => {
    for (const method of methods) {
      await using session = await openLlamaCppSession(outputs.get(method) as string, { threads: llmTestThreads, contextSize: 64 });
      let tokens = session.tokenize("A wise man once said");
      for (let step = 0; step < 12; step += 1) {
        const logits = await session.evaluateLogits(tokens, tokens.length - 1);
        let best = 0;
        for (let token = 1; token < logits.length; token += 1) if ((logits[token] as number) > (logits[best] as number)) best = token;
        tokens = Int32Array.from([...tokens, best]);
      }
      expect(session.describe().runtime).toBe("llama-cpp");
      expect(tokens.length).toBe(session.tokenize("A wise man once said").length + 12);
    }
  });

  it("KL divergence against F16 is ordered Q8_0 < Q6_K < Q4_K_M < Q4_0 and agrees with llama.cpp's figures within 25%", () => {
    const kl = methods.map((method) => evaluations.get(method)?.klDivergence?.mean ?? Number.NaN);
    for (let index = 1; index < kl.length; index += 1) expect(kl[index - 1]).toBeLessThan(kl[index] as number);
    for (const method of ["Q6_K", "Q4_K_M", "Q4_0"] as const) {
      const measured = evaluations.get(method)?.klDivergence?.mean ?? Number.NaN;
      expect(Math.abs(measured / llamaCppReference.klDivergence[method] - 1), method).toBeLessThan(0.25);
      const sameTop = evaluations.get(method)?.top1Agreement?.ratio ?? Number.NaN;
      expect(Math.abs(sameTop - llamaCppReference.sameTop[method]), method).toBeLessThan(0.02);
    }
    const q8 = evaluations.get("Q8_0");
    expect(q8?.klDivergence?.median).toBeLessThanOrEqual(q8?.klDivergence?.mean as number);
    expect(q8?.klDivergence?.p99).toBeGreaterThan(q8?.klDivergence?.mean as number);
  });

  it("perplexity on the held-out text stays within the stated bound of F16's for each type", () => {
    const f16 = evaluations.get("F16");
    expect(f16?.chunking).toMatchObject({ contextSize: 128, strideTokens: 128, firstScoredPosition: 64, scoredTokensPerChunk: 63, chunkCount: 24 });
    const base = f16?.perplexity.perplexity ?? Number.NaN;
    // A trained model: far below the random-weights perplexity of 4,083.6 (MODELS.md).
    expect(base).toBeGreaterThan(30);
    expect(base).toBeLessThan(150);
    for (const method of methods) {
      const evaluation = evaluations.get(method);
      expect(evaluation?.perplexity.scoredTokens).toBe(24 * 63);
      expect(evaluation?.basePerplexity?.perplexity, method).toBeCloseTo(base, 9);
      const increase = (evaluation?.perplexity.perplexity ?? Number.NaN) / base - 1;
      expect(increase, method).toBeLessThan(perplexityBounds[method]);
      expect(increase, method).toBeGreaterThan(-perplexityBounds[method]);
    }
  });

  it("reports throughput, load time, peak RSS and threads", () => {
    for (const evaluation of evaluations.values()) {
      expect(evaluation.threads).toBe(llmTestThreads);
      expect(evaluation.throughput.map((test) => test.name)).toEqual(["pp64", "tg16"]);
      for (const test of evaluation.throughput) expect(test.tokensPerSecMean).toBeGreaterThan(0);
      expect(evaluation.loadMs.total).toBeGreaterThan(0);
      expect(evaluation.peakRssBytes).toBeGreaterThan(10 * 1024 * 1024);
    }
  });
});
