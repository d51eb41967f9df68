import { readFile } from "node:fs/promises";
import { EdgeforgeError, fileError } from "../core/errors.js";

/**
 * CTC class table in PaddleOCR's layout: index 0 is the blank, then one class per line of the
 * keys file, then (optionally) the space character.
 */
export interface CtcCharset {
  characters: string[];
  useSpace: boolean;
}

export function parseCtcKeys(text: string, useSpace = true): CtcCharset {
  const keys = text.split(/\r?\n/);
  if (keys.length > 0 && keys[keys.length - 1] === "") keys.pop();
  return { characters: ["", ...keys, ...(useSpace ? [" "] : [])], useSpace };
}

export async function readCtcKeys(path: string, useSpace = true): Promise<CtcCharset> {
  try {
    return parseCtcKeys(await readFile(path, "utf8"), useSpace);
  } catch (error) {
    throw fileError(error, path, "read");
  }
}

/**
 * Greedy CTC decoding of a [T × C] row-major score matrix: best class per step, merge repeats,
 * drop blanks.
 */
export function decodeCtcGreedy(scores: ArrayLike<number>, steps: number, classes: number, charset: CtcCharset): string {
  if (classes !== charset.characters.length) {
    throw new EdgeforgeError("INVALID_OPTION", `the model scores ${classes} classes but the keys file gives ${charset.characters.length} (blank + keys${charset.useSpace ? " + space" : ""})`, {
      hint: "pass the keys file the model was trained with (e.g. ppocr_keys_v1.txt), and set whether it uses the space class",
      details: { classes, charset: charset.characters.length },
    });
  }
  let text = "";
  let previous = -1;
  for (let t = 0; t < steps; t += 1) {
    const offset = t * classes;
    let best = 0;
    let bestValue = -Infinity;
    for (let c = 0; c < classes; c += 1) {
      const value = scores[offset + c] as number;
      if (value > bestValue) {
        bestValue = value;
        best = c;
      }
    }
    if (best !== 0 && best !== previous) text += charset.characters[best] ?? "";
    previous = best;
  }
  return text;
}

/** Levenshtein distance over Unicode code points. */
export function editDistance(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  let row = Array.from({ length: right.length + 1 }, (_, j) => j);
  for (let i = 1; i <= left.length; i += 1) {
    const next = [i];
    for (let j = 1; j <= right.length; j += 1) {
      const cost = left[i - 1] === right[j - 1] ? 0 : 1;
      next.push(Math.min((row[j] as number) + 1, (next[j - 1] as number) + 1, (row[j - 1] as number) + cost));
    }
    row = next;
  }
  return row[right.length] as number;
}
