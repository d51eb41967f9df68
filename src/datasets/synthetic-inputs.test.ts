import { describe, expect, it } from "vitest";
import type { TensorSpec } from "../core/tensor.js";
import { describeSamples } from "../stats/describe-samples.js";
import { bindInputs } from "./bind-inputs.js";
import { generateInputs, resolveInputShapes } from "./synthetic-inputs.js";

// Silero VAD's declared inputs, as onnxruntime reports them.
const silero: TensorSpec[] = [
  { name: "input", dtype: "float32", shape: ["batch", "sequence"] },
  { name: "sr", dtype: "int64", shape: [] },
  { name: "h", dtype: "float32", shape: [2, "batch", 64] },
  { name: "c", dtype: "float32", shape: [2, "batch", 64] },
];
const ocr: TensorSpec[] = [{ name: "x", dtype: "float32", shape: ["p2o.DynamicDimension.0", 3, 48, "p2o.DynamicDimension.1"] }];

describe("resolveInputShapes", () => {
  it("binds symbolic dimensions across inputs and defaults the leading one to 1", () => {
    expect(resolveInputShapes(silero, { sequence: [512] })).toEqual({ input: [1, 512], sr: [], h: [2, 1, 64], c: [2, 1, 64] });
    expect(resolveInputShapes(silero, { input: [4, 1024] })).toMatchObject({ h: [2, 4, 64] });
  });

  it("asks for --shape when a dimension cannot be guessed", () => {
    expect(() => resolveInputShapes(ocr)).toThrow(expect.objectContaining({ code: "INVALID_SHAPE", hint: expect.stringContaining("--shape x=") }));
  });

  it("rejects overrides that change rank or fixed dimensions, or name nothing", () => {
    expect(() => resolveInputShapes(ocr, { x: [1, 3, 48] })).toThrow(expect.objectContaining({ code: "INVALID_SHAPE" }));
    expect(() => resolveInputShapes(ocr, { x: [1, 4, 48, 320] })).toThrow(/does not fit/);
    expect(() => resolveInputShapes(ocr, { y: [1] })).toThrow(/neither an input nor a dimension/);
  });
});

describe("generateInputs", () => {
  it("gives Silero a 16 kHz sample rate, small state and speech-level audio", () => {
    const inputs = generateInputs(silero, { seed: 1, shapes: { sequence: [512] } });
    expect(inputs.sr?.dtype).toBe("int64");
    expect(Array.from(inputs.sr?.data as BigInt64Array)).toEqual([16000n]);
    const audio = describeSamples(inputs.input?.data as Float32Array);
    expect(audio.min).toBeGreaterThanOrEqual(-1);
    expect(audio.max).toBeLessThanOrEqual(1);
    expect(audio.sd).toBeGreaterThan(0.05);
    expect(describeSamples(inputs.h?.data as Float32Array).sd).toBeLessThan(0.2);
  });

  it("fills images with varied values in [0, 1), reproducibly per seed", () => {
    const a = generateInputs(ocr, { seed: 3, shapes: { x: [1, 3, 48, 64] } }).x?.data as Float32Array;
    const b = generateInputs(ocr, { seed: 3, shapes: { x: [1, 3, 48, 64] } }).x?.data as Float32Array;
    const c = generateInputs(ocr, { seed: 4, shapes: { x: [1, 3, 48, 64] } }).x?.data as Float32Array;
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const summary = describeSamples(a);
    expect(summary.min).toBeGreaterThanOrEqual(0);
    expect(summary.max).toBeLessThan(1);
    expect(summary.sd).toBeGreaterThan(0.2);
  });

  it("draws token ids below the vocabulary size and honours value overrides", () => {
    const specs: TensorSpec[] = [
      { name: "input_ids", dtype: "int64", shape: [1, 64] },
      { name: "attention_mask", dtype: "int64", shape: [1, 64] },
    ];
    const inputs = generateInputs(specs, { seed: 2, vocabularySize: 50, values: { attention_mask: { fill: 0 } } });
    const ids = Array.from(inputs.input_ids?.data as BigInt64Array, Number);
    expect(Math.max(...ids)).toBeLessThan(50);
    expect(new Set(ids).size).toBeGreaterThan(10);
    expect(Array.from(inputs.attention_mask?.data as BigInt64Array).every((v) => v === 0n)).toBe(true);
  });
});

describe("bindInputs", () => {
  it("maps a single unnamed tensor to the first unfilled input and generates the rest from its shape", () => {
    const audio = { dtype: "float32" as const, dims: [2, 512], data: new Float32Array(1024) };
    const bound = bindInputs({ samples: audio }, silero, { seed: 1 });
    expect(bound.input).toBe(audio);
    expect(Array.from(bound.sr?.data as BigInt64Array)).toEqual([16000n]);
    // "batch" is taken from the audio tensor the dataset provided.
    expect(bound.h?.dims).toEqual([2, 2, 64]);
  });

  it("refuses several tensors that match no input, and missing inputs without a generator", () => {
    const t = { dtype: "float32" as const, dims: [1], data: new Float32Array(1) };
    expect(() => bindInputs({ a: t, b: t }, silero)).toThrow(expect.objectContaining({ code: "DATASET_INVALID" }));
    expect(() => bindInputs({ input: t }, silero)).toThrow(/no value for input "sr"/);
  });
});
