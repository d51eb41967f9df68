import { describe, expect, it } from "vitest";
import { createFidelityAccumulator } from "./fidelity-metrics.js";
import { argmax, tensorNumbers, topK } from "./tensor-values.js";
import { float32ToFloat16Bits } from "../kernels/float16.js";

describe("createFidelityAccumulator", () => {
  it("computes errors, cosine, SNR and top-1 agreement over samples (tolerance 1e-12)", () => {
    const acc = createFidelityAccumulator();
    // Two rows of three scores; the candidate flips the second row's winner.
    acc.add([1, 2, 3, 3, 2, 1], [1, 2, 3.5, 3, 3.5, 1], 3);
    const s = acc.summary();
    expect(s.maxAbsError).toBeCloseTo(1.5, 12);
    expect(s.meanAbsError).toBeCloseTo(2 / 6, 12);
    expect(s.top1Agreement).toBeCloseTo(0.5, 12);
    const signal = 1 + 4 + 9 + 9 + 4 + 1;
    expect(s.snrDb).toBeCloseTo(10 * Math.log10(signal / (0.25 + 2.25)), 12);
    const dot = 1 + 4 + 10.5 + 9 + 7 + 1;
    const norm = Math.sqrt(signal * (1 + 4 + 12.25 + 9 + 12.25 + 1));
    expect(s.cosineSimilarity).toBeCloseTo(dot / norm, 12);
    expect(s.rows).toBe(2);
  });

  it("takes the cosine of one-value outputs (a score per sample) across the samples, where each one's own is only its sign", () => {
    const acc = createFidelityAccumulator();
    // Speech probabilities of four frames; the candidate swaps the decisions of the first two.
    const [reference, candidate] = [[0.9, 0.05, 0.9, 0.05], [0.05, 0.9, 0.9, 0.05]];
    reference.forEach((r, i) => acc.add([r], [candidate[i]!], 1));
    const s = acc.summary();
    expect(s.cosineAcrossSamples).toBe(true);
    const dot = 0.9 * 0.05 + 0.05 * 0.9 + 0.81 + 0.0025;
    expect(s.cosineSimilarity).toBeCloseTo(dot / (0.81 + 0.0025 + 0.81 + 0.0025), 12);
    expect(s.cosineSimilarity).toBeLessThan(0.6);
    // Outputs of more than one value keep the mean per-sample cosine.
    const rows = createFidelityAccumulator();
    rows.add([1, 0], [1, 0], 2);
    rows.add([0.5], [0.25], 1);
    expect(rows.summary()).toMatchObject({ cosineAcrossSamples: false, cosineSimilarity: 1 });
  });

  it("reports identical outputs as perfect (infinite SNR) and catches size mismatches", () => {
    const acc = createFidelityAccumulator();
    acc.add([0, 0], [0, 0], 2);
    expect(acc.summary()).toMatchObject({ maxAbsError: 0, cosineSimilarity: 1, snrDb: Infinity, top1Agreement: 1 });
    expect(() => acc.add([1], [1, 2], 1)).toThrow(RangeError);
  });
});

describe("tensor values", () => {
  it("decodes float16 and int64 tensors to numbers", () => {
    const half = tensorNumbers({ dtype: "float16", dims: [2], data: new Uint16Array([float32ToFloat16Bits(0.5), float32ToFloat16Bits(-2)]) });
    expect(Array.from(half)).toEqual([0.5, -2]);
    expect(Array.from(tensorNumbers({ dtype: "int64", dims: [2], data: new BigInt64Array([3n, -4n]) }))).toEqual([3, -4]);
  });

  it("argmax and topK pick the largest values in order", () => {
    const values = [0.1, 0.7, 0.05, 0.9, 0.3];
    expect(argmax(values)).toBe(3);
    expect(topK(values, 3)).toEqual([3, 1, 4]);
    expect(topK(values, 10)).toEqual([3, 1, 4, 0, 2]);
    expect(argmax([5, 1, 9, 2], 2, 2)).toBe(0);
  });
});
