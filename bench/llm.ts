/**
 * bench:llm — generation (tg) and prompt-processing (pp) tokens/s of tiny-fortunes quantized by
 * llama.cpp (Q8_0, Q6_K, Q4_K_M, Q4_0) as ratios to the F16 source, all measured in this run.
 * Every model is loaded once; repetitions go round-robin over the models so machine-load drift
 * hits all of them alike. Also reports perplexity/KL on a few held-out chunks, and the time a
 * perplexity evaluation takes per model with logits read natively (llama_get_logits_ith into a
 * Float32Array) against the previous path (node-llama-cpp's controlledEvaluate, a Map per
 * position) and against decoding alone (the engine's floor), in alternating blocks; then the
 * F16 model over all of heldout-eval.txt. Threads: --threads N (default 1; on a shared 2-core
 * machine 2 threads measured far slower — the count is recorded).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { compareLlms, quantizeGguf, renderLlmEvaluations } from "../src/api/index.js";
import { writeFileAtomic } from "../src/core/atomic-write.js";
import { measureLlmThroughput } from "../src/eval/llm/measure-llm-throughput.js";
import { planPerplexityChunks, type PerplexityChunkPlan } from "../src/eval/llm/perplexity-chunks.js";
import { chunkTargets, decodedChunk, referenceLogitsFrom, scoreLlmChunks } from "../src/eval/llm/score-llm-chunks.js";
import { openLlamaCppSession, type LlamaCppSession } from "../src/runtimes/llama-cpp/llama-cpp-runtime.js";
import { describeSamples } from "../src/stats/describe-samples.js";
import { sharedModels } from "../test/fixtures/shared-models.js";

const source = sharedModels.tinyLlamaF16;
const text = sharedModels.heldoutText;
const methods = ["Q8_0", "Q6_K", "Q4_K_M", "Q4_0"];
const threadsArg = process.argv.indexOf("--threads");
const threads = threadsArg > 0 ? Number(process.argv[threadsArg + 1]) : 1;
const repetitions = 7;
const promptTokens = 512;
const generateTokens = 128;
const evalContext = 128;
const evalChunks = 16;
const evalRepetitions = 3;

/** Perplexity over the planned chunks (logits + scoring), in ns. */
async function timeEvaluation(session: LlamaCppSession, tokens: Int32Array, plan: PerplexityChunkPlan): Promise<{ ns: number; perplexity: number; perplexityStandardError: number }> {
  const started = process.hrtime.bigint();
  const scores = await scoreLlmChunks(referenceLogitsFrom(session, tokens, plan), session.vocabularySize, chunkTargets(tokens, plan, session.bosToken), plan, undefined);
  const ns = Number(process.hrtime.bigint() - started);
  const { perplexity, perplexityStandardError } = scores.perplexity();
  return { ns, perplexity, perplexityStandardError };
}

/** The same chunks decoded without reading any logits: what the engine itself costs. */
async function timeDecodeOnly(session: LlamaCppSession, tokens: Int32Array, plan: PerplexityChunkPlan): Promise<number> {
  const started = process.hrtime.bigint();
  for (let index = 0; index < plan.chunkCount; index += 1) {
    await session.resetSequence();
    await session.appendTokens(decodedChunk(tokens, plan, index, session.bosToken).decoded);
  }
  return Number(process.hrtime.bigint() - started);
}

interface Row {
  type: string;
  sizeBytes: number;
  tgSamplesTokensPerSec: number[];
  ppSamplesTokensPerSec: number[];
}

const dir = await mkdtemp(join(tmpdir(), "edgeforge-bench-llm-"));
try {
  const models: Array<{ type: string; path: string; sizeBytes: number }> = [{ type: "F16", path: source, sizeBytes: 0 }];
  for (const method of methods) {
    const result = await quantizeGguf(source, join(dir, `tiny-${method}.gguf`), { method, threads });
    models.push({ type: method, path: result.artifact.path, sizeBytes: result.artifact.sizeBytes });
  }
  const sessions: LlamaCppSession[] = [];
  for (const model of models) sessions.push(await openLlamaCppSession(model.path, { threads, contextSize: promptTokens + generateTokens }));
  const tokens = sessions[0]!.tokenize(await readFile(text, "utf8"));
  const rows: Row[] = models.map((model) => ({ type: model.type, sizeBytes: model.sizeBytes, tgSamplesTokensPerSec: [], ppSamplesTokensPerSec: [] }));
  for (let round = 0; round < repetitions; round += 1) {
    for (const [index, session] of sessions.entries()) {
      // One measured repetition per round (measureLlmThroughput warms up first each time).
      const [pp, tg] = await measureLlmThroughput(session, tokens, { promptTokens, generateTokens, repetitions: 1 });
      rows[index]!.ppSamplesTokensPerSec.push(pp!.tokensPerSecMean);
      rows[index]!.tgSamplesTokensPerSec.push(tg!.tokensPerSecMean);
    }
  }
  for (const session of sessions) await session.close();

  const quality = await compareLlms({
    basePath: source,
    modelPaths: models.slice(1).map((model) => model.path),
    textPath: text,
    contextSize: 128,
    maxChunks: 16,
    threads,
    promptTokens: 0,
    generateTokens: 0,
  });
  models[0]!.sizeBytes = quality[0]!.model.sizeBytes;

  // Evaluation time: native logits vs the previous Map path vs decode only, alternating blocks.
  const evalSessions = [];
  for (const model of models) {
    evalSessions.push({
      native: await openLlamaCppSession(model.path, { threads, contextSize: evalContext }),
      previous: await openLlamaCppSession(model.path, { threads, contextSize: evalContext, logits: "node-llama-cpp" }),
    });
  }
  const evalPlan = planPerplexityChunks(tokens.length, evalContext, evalChunks);
  const evalSamples = models.map(() => ({ nativeNs: [] as number[], previousNs: [] as number[], decodeOnlyNs: [] as number[], samePerplexity: true }));
  for (let round = 0; round < evalRepetitions; round += 1) {
    for (const [index, pair] of evalSessions.entries()) {
      const order = round % 2 === 0 ? (["native", "previous"] as const) : (["previous", "native"] as const);
      const figures: Record<string, number> = {};
      for (const which of order) {
        const timed = await timeEvaluation(pair[which], tokens, evalPlan);
        evalSamples[index]![which === "native" ? "nativeNs" : "previousNs"].push(timed.ns);
        figures[which] = timed.perplexity;
      }
      if (figures.native !== figures.previous) evalSamples[index]!.samePerplexity = false;
      evalSamples[index]!.decodeOnlyNs.push(await timeDecodeOnly(pair.native, tokens, evalPlan));
    }
  }
  for (const pair of evalSessions) {
    await pair.native.close();
    await pair.previous.close();
  }
  const fullSession = await openLlamaCppSession(source, { threads, contextSize: evalContext });
  const fullPlan = planPerplexityChunks(fullSession.tokenize(await readFile(text, "utf8")).length, evalContext);
  const full = await timeEvaluation(fullSession, fullSession.tokenize(await readFile(text, "utf8")), fullPlan);
  await fullSession.close();
  rows[0]!.sizeBytes = quality[0]!.model.sizeBytes;

  const f16 = rows[0]!;
  const f16Tg = describeSamples(f16.tgSamplesTokensPerSec).p50;
  const f16Pp = describeSamples(f16.ppSamplesTokensPerSec).p50;
  const results = rows.map((row, index) => {
    const tg = describeSamples(row.tgSamplesTokensPerSec);
    const pp = describeSamples(row.ppSamplesTokensPerSec);
    const evaluation = quality[index]!;
    return {
      type: row.type,
      sizeBytes: row.sizeBytes,
      sizeRatioToF16: row.sizeBytes / f16.sizeBytes,
      tgTokensPerSec: { mean: tg.mean, sd: tg.sd, p50: tg.p50, min: tg.min, max: tg.max },
      tgRatioToF16: tg.p50 / f16Tg,
      ppTokensPerSec: { mean: pp.mean, sd: pp.sd, p50: pp.p50, min: pp.min, max: pp.max },
      ppRatioToF16: pp.p50 / f16Pp,
      perplexity: evaluation.perplexity.perplexity,
      klDivergenceMean: evaluation.klDivergence?.mean,
      top1Agreement: evaluation.top1Agreement?.ratio,
      evaluation: {
        nativeMs: describeSamples(evalSamples[index]!.nativeNs).p50 / 1e6,
        previousMs: describeSamples(evalSamples[index]!.previousNs).p50 / 1e6,
        decodeOnlyMs: describeSamples(evalSamples[index]!.decodeOnlyNs).p50 / 1e6,
        speedupOverPrevious: describeSamples(evalSamples[index]!.previousNs).p50 / describeSamples(evalSamples[index]!.nativeNs).p50,
        overheadOverDecodeOnly: describeSamples(evalSamples[index]!.nativeNs).p50 / describeSamples(evalSamples[index]!.decodeOnlyNs).p50,
        samePerplexity: evalSamples[index]!.samePerplexity,
      },
    };
  });
  const record = {
    schemaVersion: 1,
    bench: "llm",
    model: "tiny-fortunes-llama-f16.gguf (5.5M-parameter llama)",
    machine: { cpu: cpus()[0]?.model ?? "unknown", logicalThreads: cpus().length },
    runtime: sessions[0]!.describe().runtime,
    runtimeVersion: sessions[0]!.describe().runtimeVersion,
    llamaCppRelease: sessions[0]!.describe().settings.llamaCppRelease,
    threads,
    promptTokens,
    generateTokens,
    repetitions,
    method: "tg: 128 tokens decoded one at a time from an empty context; pp: 512-token prompt in one batch; ratios are medians over round-robin repetitions, each after a warm-up",
    quality: { contextSize: 128, chunks: 16, text: "heldout-eval.txt" },
    evaluationMethod: `perplexity over ${evalChunks} chunks × ${evalContext} tokens (decode + logits + log-softmax scoring), median of ${evalRepetitions} repetitions per path, native and previous alternating first; decode-only = the same chunks decoded without reading logits`,
    fullEvaluation: { model: "F16", chunks: fullPlan.chunkCount, contextSize: evalContext, ms: full.ns / 1e6, perplexity: full.perplexity, perplexityStandardError: full.perplexityStandardError, logitsPath: "native" },
    results,
  };
  await writeFileAtomic("bench/results/llm.json", `${JSON.stringify(record, null, 2)}\n`);
  console.log(`threads ${threads}, ${repetitions} round-robin repetitions, llama.cpp ${String(record.llamaCppRelease)}`);
  console.log("| type | size | size/F16 | tg128 t/s (median) | tg/F16 | pp512 t/s (median) | pp/F16 | PPL (16×128) | KLD |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of results) {
    console.log(
      `| ${r.type} | ${r.sizeBytes} | ${r.sizeRatioToF16.toFixed(3)} | ${r.tgTokensPerSec.p50.toFixed(1)} | ${r.tgRatioToF16.toFixed(2)}× | ${r.ppTokensPerSec.p50.toFixed(1)} | ${r.ppRatioToF16.toFixed(2)}× | ${r.perplexity.toFixed(3)} | ${r.klDivergenceMean?.toFixed(6) ?? "—"} |`,
    );
  }
  console.log(`\nperplexity evaluation, ${evalChunks} chunks × ${evalContext} tokens, median of ${evalRepetitions} (alternating):`);
  console.log("| type | native logits ms | previous (Map) ms | speedup | decode only ms | native/decode | same PPL |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
  for (const r of results) {
    const e = r.evaluation;
    console.log(`| ${r.type} | ${e.nativeMs.toFixed(0)} | ${e.previousMs.toFixed(0)} | ${e.speedupOverPrevious.toFixed(2)}× | ${e.decodeOnlyMs.toFixed(0)} | ${e.overheadOverDecodeOnly.toFixed(2)}× | ${e.samePerplexity ? "yes" : "NO"} |`);
  }
  console.log(`F16, all ${fullPlan.chunkCount} chunks (native logits): ${(full.ns / 1e9).toFixed(1)} s, perplexity ${full.perplexity.toFixed(4)} ± ${full.perplexityStandardError.toFixed(4)}`);
  console.log(`\n${renderLlmEvaluations(quality, "md")}`);
  console.log("wrote bench/results/llm.json");
} finally {
  await rm(dir, { recursive: true, force: true });
}
