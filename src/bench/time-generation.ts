import type { Session } from "../core/session.js";
import type { NamedTensors } from "../core/tensor.js";

/** Tokens decoded one at a time per generation measurement (llama-bench's tg, shorter: blocks stay short). */
export const generationTokenCount = 32;

interface GenerationSession extends Session {
  resetSequence(): Promise<void>;
  appendTokens(tokens: Int32Array): Promise<void>;
}

function canGenerate(session: Session): session is GenerationSession {
  const s = session as Partial<GenerationSession>;
  return typeof s.resetSequence === "function" && typeof s.appendTokens === "function";
}

/**
 * A timer of llama-bench-style generation for sessions that decode token by token (llama-cpp):
 * an empty sequence, then `generationTokenCount` tokens from the run's input appended one at a
 * time (no sampling, as llama-bench's tg). Returns nanoseconds; undefined for other sessions.
 */
export function generationTimer(session: Session, inputs: NamedTensors): (() => Promise<number>) | undefined {
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
