import { describe, expect, it } from "vitest";
import type { TensorSpec } from "../core/tensor.js";
import { float32ToFloat16Bits } from "../kernels/float16.js";
import { extractFeatures, planFeatures } from "./request-features.js";

const image: TensorSpec = { name: "x", dtype: "float32", shape: ["N", 3, 2, 2] };
const logits: TensorSpec = { name: "y", dtype: "float32", shape: ["N", 4] };

describe("request features", () => {
  it("plans mean/sd/p10/p50/p90 per input, channel means for NCHW images, confidence and class for classifiers", () => {
    expect(planFeatures([image], [logits]).map((f) => `${f.name}:${f.kind}`)).toEqual([
      "x.mean:numeric", "x.sd:numeric", "x.p10:numeric", "x.p50:numeric", "x.p90:numeric",
      "x.channel0.mean:numeric", "x.channel1.mean:numeric", "x.channel2.mean:numeric",
      "prediction.confidence:numeric", "prediction.class:categorical",
    ]);
    // CTC-like [N, T, C] output: confidence only; single-channel and string inputs: no channel means / no features
    expect(planFeatures([{ name: "g", dtype: "float32", shape: [1, 1, 28, 28] }, { name: "s", dtype: "string", shape: [1] }], [{ name: "o", dtype: "float32", shape: [1, 40, 97] }]).map((f) => f.name)).toEqual(["g.mean", "g.sd", "g.p10", "g.p50", "g.p90", "prediction.confidence"]);
  });

  it("computes the values by hand: a 3-channel 2×2 image and logits (tolerance 1e-9)", () => {
    // channel c holds c·10 + [0, 1, 2, 3]
    const data = Float32Array.from({ length: 12 }, (_, i) => Math.floor(i / 4) * 10 + (i % 4));
    const out = extractFeatures([image], [logits], { x: { dtype: "float32", dims: [1, 3, 2, 2], data } }, { y: { dtype: "float32", dims: [1, 4], data: Float32Array.from([0, 0, Math.log(2), 0]) } }, new Float64Array(10));
    const values = data.reduce((a, b) => a + b, 0) / 12;
    const variance = Array.from(data).reduce((a, b) => a + (b - values) ** 2, 0) / 12;
    expect(out[0]).toBeCloseTo(values, 9);
    expect(out[1]).toBeCloseTo(Math.sqrt(variance), 9);
    // numpy.percentile([0,1,2,3,10,11,12,13,20,21,22,23], [10, 50, 90]) = 1.1, 11.5, 21.9
    expect(out[2]).toBeCloseTo(1.1, 9);
    expect(out[3]).toBeCloseTo(11.5, 9);
    expect(out[4]).toBeCloseTo(21.9, 9);
    expect([...out.subarray(5, 8)]).toEqual([1.5, 11.5, 21.5]);
    // softmax of [0, 0, ln 2, 0]: top-1 = 2 / 5, class 2
    expect(out[8]).toBeCloseTo(0.4, 9);
    expect(out[9]).toBe(2);
  });

  it("reads float16 and int64 inputs as numbers; a missing input gives NaN", () => {
    const f16: TensorSpec = { name: "h", dtype: "float16", shape: [4] };
    const ids: TensorSpec = { name: "i", dtype: "int64", shape: [4] };
    const out = extractFeatures([f16, ids], [], { h: { dtype: "float16", dims: [4], data: Uint16Array.from([1, 2, 3, 4], float32ToFloat16Bits) } }, {}, new Float64Array(10));
    expect(out[0]).toBeCloseTo(2.5, 9);
    expect(Number.isNaN(out[5])).toBe(true);
    const ints = extractFeatures([ids], [], { i: { dtype: "int64", dims: [4], data: BigInt64Array.from([1n, 2n, 3n, 10n]) } }, {}, new Float64Array(5));
    expect(ints[0]).toBeCloseTo(4, 9);
  });
});
