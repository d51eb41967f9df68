import { readFile } from "node:fs/promises";
import { EdgeforgeError, fileError } from "../../core/errors.js";
import type { Reporter } from "../../core/logger.js";
import type { SessionDescription } from "../../core/session.js";
import { nsToMs } from "../../core/units.js";
import { llamaFileTypes } from "../../formats/gguf/ggml-types.js";
import { getGgufNumber, getGgufString } from "../../formats/gguf/gguf-metadata.js";
import { readGgufHeader } from "../../formats/gguf/read-gguf.js";
import type { LlmSession, OpenLlmSession } from "../../core/llm-session.js";
import { measureLlmThroughput, type ThroughputTest } from "./measure-llm-throughput.js";
import { planPerplexityChunks, type PerplexityChunkPlan } from "./perplexity-chunks.js";
import { cacheReferenceLogits, chunkTargets, referenceLogitsFrom, scoreLlmChunks } from "./score-llm-chunks.js";
import type { KlDivergenceSummary, PerplexitySummary, TokenScoreAccumulator, Top1AgreementSummary } from "./token-scores.js";

export interface EvaluateLlmOptions extends Reporter {
  modelPath: string;
  /** Plain text for perplexity (and the tokens the throughput tests decode). */
  textPath: string;
  /** Reference model for KL divergence and top-1 agreement (same vocabulary), e.g. the F16 source. */
  basePath?: string;
  /** How sessions are opened (the api layer passes the llama-cpp runtime). */
  openSession: OpenLlmSession;
  /** Threads for every decode; default: the engine's choice. */
  threads?: number;
  /** Perplexity context (= chunk size = stride); default min(512, the model's training context). */
  contextSize?: number;
  /** Evaluate only the first N chunks; default: all the text holds. */
  maxChunks?: number;
  /** pp test size; 0 skips it. Default 512. */
  promptTokens?: number;
  /** tg test size; 0 skips it. Default 128. */
  generateTokens?: number;
  /** Measured repetitions of each throughput test (after one warm-up). Default 5. */
  repetitions?: number;
}

export interface LlmModelFacts {
  path: string;
  sizeBytes: number;
  architecture: string | undefined;
  fileType: string | undefined;
  parameterCount: number;
  trainContextLength: number | undefined;
}

export interface LlmEvaluation {
  schemaVersion: 1;
  model: LlmModelFacts;
  base?: LlmModelFacts;
  runtime: SessionDescription;
  threads: number;
  text: { path: string; sizeBytes: number; tokenCount: number };
  chunking: PerplexityChunkPlan;
  perplexity: PerplexitySummary;
  basePerplexity?: PerplexitySummary;
  klDivergence?: KlDivergenceSummary;
  top1Agreement?: Top1AgreementSummary;
  throughput: ThroughputTest[];
  /** Candidate load: backend init (first load in the process only) + model + context. */
  loadMs: { total: number; backendInit: number; model: number; context: number };
  /** The process's peak resident set after loading and benchmarking the candidate, before any base model loads. */
  peakRssBytes: number;
}

async function describeModel(path: string): Promise<LlmModelFacts> {
  const header = await readGgufHeader(path);
  const architecture = getGgufString(header.metadata, "general.architecture");
  const fileTypeId = getGgufNumber(header.metadata, "general.file_type");
  return {
    path,
    sizeBytes: header.fileSizeBytes,
    architecture,
    fileType: fileTypeId === undefined ? undefined : (llamaFileTypes.get(fileTypeId)?.name ?? String(fileTypeId)),
    parameterCount: header.tensors.reduce((sum, tensor) => sum + tensor.elementCount, 0),
    trainContextLength: architecture ? getGgufNumber(header.metadata, `${architecture}.context_length`) : undefined,
  };
}

async function readText(path: string): Promise<{ text: string; sizeBytes: number }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw fileError(error, path, "read");
  }
  const text = bytes.toString("utf8");
  if (text.trim().length === 0) {
    throw new EdgeforgeError("DATASET_INVALID", `${path} holds no text`, { hint: "pass a plain-text file, e.g. held-out prose", details: { path } });
  }
  return { text, sizeBytes: bytes.length };
}

interface PreparedText {
  tokens: Int32Array;
  plan: PerplexityChunkPlan;
  text: LlmEvaluation["text"];
}

function prepareText(session: LlmSession, text: string, path: string, sizeBytes: number, contextSize: number, maxChunks: number | undefined): PreparedText {
  const tokens = session.tokenize(text);
  return { tokens, plan: planPerplexityChunks(tokens.length, contextSize, maxChunks), text: { path, sizeBytes, tokenCount: tokens.length } };
}

function checkSameVocabulary(reference: LlmSession, candidate: LlmSession, candidatePath: string): void {
  if (reference.vocabularySize !== candidate.vocabularySize || reference.bosToken !== candidate.bosToken) {
    throw new EdgeforgeError("INVALID_OPTION", `${candidatePath} has a different vocabulary (${candidate.vocabularySize} tokens) from the base model (${reference.vocabularySize})`, {
      hint: "KL divergence compares models with the same tokenizer (e.g. a quantized model and its F16 source)",
      details: { candidatePath },
    });
  }
}

interface Measured {
  session: LlmSession;
  openNs: bigint;
  throughput: ThroughputTest[];
  peakRssBytes: number;
}

type MeasureOptions = Pick<EvaluateLlmOptions, "openSession" | "threads" | "promptTokens" | "generateTokens" | "repetitions" | "signal">;

/** Open a model with a context large enough for perplexity chunks and the throughput tests, timing the load. */
async function openTimed(options: MeasureOptions, modelPath: string, contextSize: number): Promise<Measured> {
  const promptTokens = options.promptTokens ?? 512;
  const generateTokens = options.generateTokens ?? 128;
  const started = process.hrtime.bigint();
  const session = await options.openSession(modelPath, { threads: options.threads, contextSize: Math.max(contextSize, promptTokens, generateTokens) });
  return { session, openNs: process.hrtime.bigint() - started, throughput: [], peakRssBytes: 0 };
}

/** Throughput first, then the process peak RSS, while this model is the only one loaded by this step. */
async function measureThroughput(options: MeasureOptions, measured: Measured, tokens: Int32Array): Promise<void> {
  measured.throughput = await measureLlmThroughput(measured.session, tokens, {
    promptTokens: options.promptTokens ?? 512,
    generateTokens: options.generateTokens ?? 128,
    repetitions: options.repetitions ?? 5,
    signal: options.signal,
  });
  measured.peakRssBytes = process.resourceUsage().maxRSS * 1024;
}

function assemble(model: LlmModelFacts, base: LlmModelFacts | undefined, measured: Measured, prepared: PreparedText, scores: TokenScoreAccumulator): LlmEvaluation {
  const timings = measured.session.loadTimings;
  return {
    schemaVersion: 1,
    model,
    ...(base ? { base } : {}),
    runtime: measured.session.describe(),
    threads: measured.session.threads,
    text: prepared.text,
    chunking: prepared.plan,
    perplexity: scores.perplexity(),
    ...optional("basePerplexity", scores.basePerplexity()),
    ...optional("klDivergence", scores.klDivergence()),
    ...optional("top1Agreement", scores.top1Agreement()),
    throughput: measured.throughput,
    loadMs: {
      total: nsToMs(measured.openNs),
      backendInit: nsToMs(timings.backendInitNs),
      model: nsToMs(timings.modelLoadNs),
      context: nsToMs(timings.contextCreateNs),
    },
    peakRssBytes: measured.peakRssBytes,
  };
}

/**
 * Perplexity (llama-perplexity chunking), and against a base model KL divergence and top-1
 * agreement over the same tokens, plus pp/tg throughput, load time and peak RSS of one GGUF
 * language model. The candidate is measured alone before a base model is loaded, so its
 * throughput and peak RSS are not disturbed by the base.
 */
export async function evaluateLlm(options: EvaluateLlmOptions): Promise<LlmEvaluation> {
  const model = await describeModel(options.modelPath);
  const base = options.basePath ? await describeModel(options.basePath) : undefined;
  const { text, sizeBytes } = await readText(options.textPath);
  const contextSize = options.contextSize ?? Math.min(512, model.trainContextLength ?? 512);
  const measured = await openTimed(options, options.modelPath, contextSize);
  let baseSession: LlmSession | undefined;
  try {
    const prepared = prepareText(measured.session, text, options.textPath, sizeBytes, contextSize, options.maxChunks);
    await measureThroughput(options, measured, prepared.tokens);
    if (options.basePath) {
      baseSession = await options.openSession(options.basePath, { threads: options.threads, contextSize });
      checkSameVocabulary(baseSession, measured.session, options.modelPath);
    }
    const reference = baseSession ? referenceLogitsFrom(baseSession, prepared.tokens, prepared.plan, options.signal) : undefined;
    const session = measured.session;
    const scores = await scoreLlmChunks(
      referenceLogitsFrom(session, prepared.tokens, prepared.plan, options.signal),
      session.vocabularySize,
      chunkTargets(prepared.tokens, prepared.plan, session.bosToken),
      prepared.plan,
      reference,
      options,
    );
    return assemble(model, base, measured, prepared, scores);
  } finally {
    await baseSession?.close();
    await measured.session.close();
  }
}

export interface CompareLlmsOptions extends Omit<EvaluateLlmOptions, "modelPath" | "basePath"> {
  basePath: string;
  modelPaths: string[];
  /** Keep the base model's logits in memory when they fit this budget (default 1 GiB), so it is decoded once for all candidates. */
  referenceBudgetBytes?: number;
}

/**
 * Evaluate a base model and several candidates (e.g. its quantizations) over the same tokens in
 * one process: the base first (its own perplexity and throughput), then each candidate with KL
 * divergence and top-1 agreement against the base. Models are measured one at a time; peak RSS
 * is the process's and so grows with each model loaded (use evaluateLlm per process for memory).
 */
export async function compareLlms(options: CompareLlmsOptions): Promise<LlmEvaluation[]> {
  const baseFacts = await describeModel(options.basePath);
  const { text, sizeBytes } = await readText(options.textPath);
  const contextSize = options.contextSize ?? Math.min(512, baseFacts.trainContextLength ?? 512);
  const baseMeasured = await openTimed(options, options.basePath, contextSize);
  const results: LlmEvaluation[] = [];
  try {
    const prepared = prepareText(baseMeasured.session, text, options.textPath, sizeBytes, contextSize, options.maxChunks);
    await measureThroughput(options, baseMeasured, prepared.tokens);
    const reference = await cacheReferenceLogits(
      referenceLogitsFrom(baseMeasured.session, prepared.tokens, prepared.plan, options.signal),
      prepared.plan,
      baseMeasured.session.vocabularySize,
      options.referenceBudgetBytes ?? 1024 ** 3,
      options.progress,
    );
    const targets = chunkTargets(prepared.tokens, prepared.plan, baseMeasured.session.bosToken);
    const vocabularySize = baseMeasured.session.vocabularySize;
    results.push(assemble(baseFacts, undefined, baseMeasured, prepared, await scoreLlmChunks(reference, vocabularySize, targets, prepared.plan, undefined, options)));
    for (const modelPath of options.modelPaths) {
      const facts = await describeModel(modelPath);
      const measured = await openTimed(options, modelPath, contextSize);
      try {
        checkSameVocabulary(baseMeasured.session, measured.session, modelPath);
        await measureThroughput(options, measured, prepared.tokens);
        const own = referenceLogitsFrom(measured.session, prepared.tokens, prepared.plan, options.signal);
        const scores = await scoreLlmChunks(own, vocabularySize, targets, prepared.plan, reference, options);
        results.push(assemble(facts, baseFacts, measured, prepared, scores));
      } finally {
        await measured.session.close();
      }
    }
    return results;
  } finally {
    await baseMeasured.session.close();
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
