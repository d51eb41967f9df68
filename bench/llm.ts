/**
 * bench:llm — generation (tg) and prompt-processing (pp) tokens/s of tiny-fortunes quantized by
 * llama.cpp (Q8_0, Q6_K, Q4_K_M, Q4_0) as ratios to the F16 source, all measured in this run.
 * Every model is loaded once; repetitions go round-robin over the models so machine-load drift
 * hits all of them alike. Also reports perplexity/KL on a few held-out chunks. Threads: --threads N
 * (default 1; on a shared 2-core machine 2 threads measured far slower — the count is recorded).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { compareLlms, quantizeGguf, renderLlmEvaluations } from "../src/api/index.js";
import { writeFileAtomic } from "../src/core/atomic-write.js";
import { measureLlmThroughput } from "../src/eval/llm/measure-llm-throughput.js";
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
  console.log(`\n${renderLlmEvaluations(quality, "md")}`);
  console.log("wrote bench/results/llm.json");
} finally {
  await rm(dir, { recursive: true, force: true });
}
