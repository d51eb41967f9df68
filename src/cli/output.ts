import { EdgeforgeError } from "../core/errors.js";
import type { Logger, Progress } from "../core/logger.js";
import { exitCodes } from "./exit-codes.js";

/** Machine output: one JSON document on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Numbers with five or more decimals (0.1499855949294151) shown to 4 significant digits: the
 * renderers round what they know; this catches a raw float any message or note passes through.
 * Machine output (--json) is never touched.
 */
export function roundLongDecimals(text: string): string {
  return text.replace(/(?<![\w.])(-?\d+\.\d{5,})(?![\w.])/g, (raw) => String(Number(Number(raw).toPrecision(4))));
}

/** Human output goes to stderr so stdout stays clean for `--json` and pipes. */
export function printHuman(text: string): void {
  const rounded = roundLongDecimals(text);
  process.stderr.write(rounded.endsWith("\n") ? rounded : `${rounded}\n`);
}

export const stderrLogger: Logger = {
  info: (message) => printHuman(message),
  warn: (message) => printHuman(`warning: ${message}`),
  debug: (message) => {
    if (process.env.EDGEFORGE_DEBUG) printHuman(`debug: ${message}`);
  },
};

export interface StderrProgressOptions {
  isTty?: boolean;
  write?: (text: string) => void;
  now?: () => number;
  /** Off a terminal, also print an update when nothing was printed for this long (default 5 s). */
  quietMs?: number;
}

/**
 * A one-line progress bar on stderr when it is a terminal; otherwise sparse lines: each quarter of the
 * way, and any update after a quiet stretch, so a long phase (e.g. auto's candidates) still shows life.
 */
export function createStderrProgress(options: StderrProgressOptions = {}): Progress {
  const isTty = options.isTty ?? process.stderr.isTTY === true;
  const write = options.write ?? ((text: string) => void process.stderr.write(text));
  const now = options.now ?? Date.now;
  const quietMs = options.quietMs ?? 5000;
  let label = "";
  let total = 0;
  let lastPrintedPercent = -1;
  let lastPrintedAt = now();
  return {
    start(newLabel, newTotal) {
      label = newLabel;
      total = newTotal;
      lastPrintedPercent = -1;
    },
    update(done, note) {
      const percent = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 0;
      if (isTty) {
        const width = 24;
        const filled = Math.round((percent / 100) * width);
        write(`\r${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${percent}%${note ? ` ${note}` : ""}\x1b[K`);
      } else if (percent >= lastPrintedPercent + 25 || now() - lastPrintedAt >= quietMs) {
        lastPrintedPercent = Math.max(lastPrintedPercent, percent - (percent % 25));
        lastPrintedAt = now();
        write(`${label}: ${percent}%${note ? ` ${note}` : ""}\n`);
      }
    },
    finish(note) {
      lastPrintedAt = now();
      if (isTty) write(`\r${label}: done${note ? ` ${note}` : ""}\x1b[K\n`);
      else write(`${label}: done${note ? ` ${note}` : ""}\n`);
    },
  };
}

/** Render any failure as `error[CODE]: message` + hint and return the exit code for it. */
export function reportFailure(error: unknown): number {
  if (EdgeforgeError.isInstance(error)) {
    printHuman(`error[${error.code}]: ${error.message}`);
    if (error.hint) printHuman(`  hint: ${error.hint}`);
    return error.code === "INVALID_OPTION" || error.code === "INVALID_SHAPE" ? exitCodes.usage : exitCodes.error;
  }
  const message = error instanceof Error ? error.message : String(error);
  printHuman(`error[INTERNAL]: ${message}`);
  printHuman("  hint: this is a bug in edgeforge; rerun with EDGEFORGE_DEBUG=1 and report the output");
  if (process.env.EDGEFORGE_DEBUG && error instanceof Error) printHuman(error.stack ?? "");
  return exitCodes.internal;
}
