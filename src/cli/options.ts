import { InvalidArgumentError } from "commander";

/** Commander argument parsers shared by commands; errors surface as usage errors (exit 2). */
export function parsePositiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError("expected a positive integer");
  return parsed;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
