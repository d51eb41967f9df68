import { EdgeforgeError } from "../../core/errors.js";
import { describeSamples } from "../../stats/describe-samples.js";
import type { LlmSession } from "../../core/llm-session.js";

/**
 * llama-bench-style throughput: "pp N" decodes an N-token prompt into an empty sequence in one
 * batch of calls; "tg N" decodes N tokens one at a time into an empty sequence (no sampling,
 * as llama-bench). Each test runs once unmeasured (warm-up), then `repetitions` times; tokens/s
 * per repetition = tokens / wall time of the decode calls (process.hrtime.bigint()).
 */
export interface ThroughputTest {
  /** "pp512", "tg128". */
  name: string;
  kind: "pp" | "tg";
  tokens: number;
  repetitions: number;
  samplesNs: number[];
  tokensPerSecMean: number;
  tokensPerSecSd: number;
  tokensPerSecP50: number;
  tokensPerSecP90: number;
  tokensPerSecMin: number;
  tokensPerSecMax: number;
}

export interface ThroughputOptions {
  promptTokens: number;
  generateTokens: number;
  repetitions: number;
  signal?: AbortSignal;
}

async function timeNs(action: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await action();
  return Number(process.hrtime.bigint() - started);
}

function summarize(name: string, kind: "pp" | "tg", tokens: number, samplesNs: number[]): ThroughputTest {
  const rates = samplesNs.map((ns) => tokens / (ns / 1e9));
  const summary = describeSamples(rates);
  return {
    name,
    kind,
    tokens,
    repetitions: samplesNs.length,
    samplesNs,
    tokensPerSecMean: summary.mean,
    tokensPerSecSd: summary.sd,
    tokensPerSecP50: summary.p50,
    tokensPerSecP90: summary.p90,
    tokensPerSecMin: summary.min,
    tokensPerSecMax: summary.max,
  };
}

/** `source` supplies the tokens decoded (real text, so the work matches real use); it is cycled if short. */
export async function measureLlmThroughput(session: LlmSession, source: Int32Array, options: ThroughputOptions): Promise<ThroughputTest[]> {
  const { promptTokens, generateTokens, repetitions, signal } = options;
  if (source.length === 0) throw new EdgeforgeError("DATASET_INVALID", "no tokens to benchmark with", { hint: "pass a non-empty --text" });
  if (!Number.isInteger(repetitions) || repetitions < 1) {
    throw new EdgeforgeError("INVALID_OPTION", `repetitions must be a positive integer, not ${repetitions}`, { hint: "e.g. --repetitions 5" });
  }
  const take = (count: number): Int32Array => Int32Array.from({ length: count }, (_, index) => source[index % source.length] as number);
  const tests: ThroughputTest[] = [];
  if (promptTokens > 0) {
    const prompt = take(promptTokens);
    const samples: number[] = [];
    for (let run = 0; run <= repetitions; run += 1) {
      signal?.throwIfAborted();
      await session.resetSequence();
      const ns = await timeNs(() => session.appendTokens(prompt));
      if (run > 0) samples.push(ns);
    }
    tests.push(summarize(`pp${promptTokens}`, "pp", promptTokens, samples));
  }
  if (generateTokens > 0) {
    const generated = take(generateTokens);
    const samples: number[] = [];
    for (let run = 0; run <= repetitions; run += 1) {
      signal?.throwIfAborted();
      await session.resetSequence();
      const ns = await timeNs(async () => {
        for (let index = 0; index < generated.length; index += 1) await session.appendTokens(generated.subarray(index, index + 1));
      });
      if (run > 0) samples.push(ns);
    }
    tests.push(summarize(`tg${generateTokens}`, "tg", generateTokens, samples));
  }
  return tests;
}
