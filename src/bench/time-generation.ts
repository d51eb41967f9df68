import type { SequenceSession } from "../core/llm-session.js";
import type { Session } from "../core/session.js";
import type { NamedTensors } from "../core/tensor.js";
import { timeRuns, type Clock } from "./time-runs.js";

/** Tokens decoded one at a time per generation (llama-bench's tg, shorter: a block holds several). */
export const generationTokenCount = 32;

type GenerationSession = Session & SequenceSession;

function canGenerate(session: Session): session is GenerationSession {
  const s = session as Partial<GenerationSession>;
  return typeof s.resetSequence === "function" && typeof s.appendTokens === "function";
}

/** One generation of `generationTokenCount` tokens; resolves to the nanoseconds its decoding took. */
export type Generation = () => Promise<number>;

/**
 * A timer of llama-bench-style generation for sessions that decode token by token (llama-cpp, MLX):
 * an empty sequence, then `generationTokenCount` tokens from the run's input appended one at a
 * time (no sampling, as llama-bench's tg). Returns nanoseconds (the reset not included); undefined for other sessions.
 */
export function generationTimer(session: Session, inputs: NamedTensors): Generation | undefined {
  const source = inputs.tokens?.data;
  if (!canGenerate(session) || !(source instanceof Int32Array) || source.length === 0) return undefined;
  const tokens = Int32Array.from({ length: generationTokenCount }, (_, i) => source[i % source.length] as number);
  return async () => {
    await session.resetSequence();
    const started = process.hrtime.bigint();
    for (let i = 0; i < tokens.length; i += 1) await session.appendTokens(tokens.subarray(i, i + 1));
    return Number(process.hrtime.bigint() - started);
  };
}

export interface TimedGenerations {
  /** Timed generations (settle and re-warm generations are never counted). */
  generations: number;
  /** generations × generationTokenCount. */
  tokens: number;
  /** Decoding time of the timed generations, summed (resets excluded): tokens/s = tokens / (ns / 1e9). */
  ns: number;
}

/**
 * Timed generations, one after another, until at least `minTimeMs` has passed and at least `minGenerations`
 * ran: one 32-token burst is too short to time (1-thread decode on a 2-vCPU VM varied 0.4–2.9 ms/token
 * from one generation to the next). Call it after settling generation (settleRuns over the same timer).
 */
export async function timeGenerations(generation: Generation, rule: { minTimeMs: number; minGenerations: number }, clock?: Clock): Promise<TimedGenerations> {
  let ns = 0;
  const timed = await timeRuns(
    async () => {
      ns += await generation();
    },
    { minTimeMs: rule.minTimeMs, maxTimeMs: rule.minTimeMs, minIterations: Math.max(1, rule.minGenerations), targetRelativeError: Number.POSITIVE_INFINITY },
    clock,
  );
  const generations = timed.latenciesNs.length;
  return { generations, tokens: generations * generationTokenCount, ns };
}
