import { InvalidArgumentError } from "commander";
import { parseDurationMs } from "../core/units.js";

/** Commander argument parsers shared by commands; errors surface as usage errors (exit 2). */
export function parsePositiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError("expected a positive integer");
  return parsed;
}

/**
 * A parser of milliseconds given as a plain number (5000) or a duration with its unit (500ms, 5s, 2m),
 * as rollout's --interval takes them; at least `minimumMs`.
 */
export function millisecondsParser(minimumMs: 0 | 1): (value: string) => number {
  return (value) => {
    const parsed = /^\s*\d+\s*$/.test(value) ? Number(value) : parseDurationMs(value);
    if (parsed === undefined || !Number.isSafeInteger(parsed) || parsed < minimumMs) {
      throw new InvalidArgumentError(`expected ${minimumMs === 0 ? "a non-negative" : "a positive"} number of milliseconds or a duration, e.g. 5000 or 5s`);
    }
    return parsed;
  };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
