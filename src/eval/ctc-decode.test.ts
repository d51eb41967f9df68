import { describe, expect, it } from "vitest";
import { decodeCtcGreedy, editDistance, parseCtcKeys } from "./ctc-decode.js";

/** One-hot rows for a sequence of class indices. */
function oneHot(indices: number[], classes: number): Float32Array {
  const scores = new Float32Array(indices.length * classes);
  indices.forEach((index, t) => {
    scores[t * classes + index] = 1;
  });
  return scores;
}

describe("CTC decoding", () => {
  const charset = parseCtcKeys("a\nb\nc\n");

  it("lays classes out as blank, keys, space", () => {
    expect(charset.characters).toEqual(["", "a", "b", "c", " "]);
    expect(parseCtcKeys("a\nb", false).characters).toEqual(["", "a", "b"]);
  });

  it("merges repeats, drops blanks, and keeps repeats separated by a blank", () => {
    // a a _ a b b _ _ space c → "aab c"
    const steps = [1, 1, 0, 1, 2, 2, 0, 0, 4, 3];
    expect(decodeCtcGreedy(oneHot(steps, 5), steps.length, 5, charset)).toBe("aab c");
  });

  it("refuses a keys file that does not match the model's class count", () => {
    expect(() => decodeCtcGreedy(new Float32Array(6), 1, 6, charset)).toThrow(expect.objectContaining({ code: "INVALID_OPTION" }));
  });

  it("measures edit distance over code points", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("中文", "中文")).toBe(0);
    expect(editDistance("中文", "中")).toBe(1);
  });
});
