import { basename } from "node:path";
import type { LlmBenchRow, LlmBenchTables, LlmQualityRow } from "../../reports/llm-bench-table.js";
import type { LlmEvaluation } from "./evaluate-llm.js";

/** The rows of the llama-bench-style tables for one or more evaluations. */
export function toLlmBenchTables(evaluations: LlmEvaluation[]): LlmBenchTables {
  return {
    schemaVersion: 1,
    speed: evaluations.flatMap(speedRows),
    quality: evaluations.map(qualityRow),
  };
}

function speedRows(evaluation: LlmEvaluation): LlmBenchRow[] {
  return evaluation.throughput.map((test) => {
    const nsMean = test.samplesNs.reduce((sum, ns) => sum + ns, 0) / test.samplesNs.length;
    const nsVariance = test.samplesNs.reduce((sum, ns) => sum + (ns - nsMean) ** 2, 0) / Math.max(1, test.samplesNs.length - 1);
    return {
      model: basename(evaluation.model.path),
      fileType: evaluation.model.fileType,
      sizeBytes: evaluation.model.sizeBytes,
      parameterCount: evaluation.model.parameterCount,
      backend: evaluation.runtime.executionProvider.toUpperCase(),
      threads: evaluation.threads,
      runtimeVersion: `${evaluation.runtime.runtime} ${evaluation.runtime.runtimeVersion}`,
      build: typeof evaluation.runtime.settings.llamaCppRelease === "string" ? evaluation.runtime.settings.llamaCppRelease : undefined,
      test: test.name,
      nPrompt: test.kind === "pp" ? test.tokens : 0,
      nGen: test.kind === "tg" ? test.tokens : 0,
      repetitions: test.repetitions,
      avgNs: nsMean,
      stddevNs: test.samplesNs.length > 1 ? Math.sqrt(nsVariance) : 0,
      avgTs: test.tokensPerSecMean,
      stddevTs: test.tokensPerSecSd,
      p50Ts: test.tokensPerSecP50,
      p90Ts: test.tokensPerSecP90,
    };
  });
}

function qualityRow(evaluation: LlmEvaluation): LlmQualityRow {
  return {
    model: basename(evaluation.model.path),
    fileType: evaluation.model.fileType,
    sizeBytes: evaluation.model.sizeBytes,
    contextSize: evaluation.chunking.contextSize,
    chunks: evaluation.chunking.chunkCount,
    scoredTokens: evaluation.perplexity.scoredTokens,
    perplexity: evaluation.perplexity.perplexity,
    perplexityStandardError: evaluation.perplexity.perplexityStandardError,
    klDivergenceMean: evaluation.klDivergence?.mean,
    klDivergenceMedian: evaluation.klDivergence?.median,
    klDivergenceP99: evaluation.klDivergence?.p99,
    top1Agreement: evaluation.top1Agreement?.ratio,
    loadMs: evaluation.loadMs.total,
    peakRssBytes: evaluation.peakRssBytes,
  };
}
