import { describe, expect, it } from "vitest";
import { computeQuantizationParams, dequantize, quantizeLinearRange, roundHalfToEven, type QuantizedTensor } from "./linear-quantization.js";
import { isSimdAvailable } from "./simd-quantize.js";
import { ChunkedWeightQuantizer, quantizePerChannel, quantizePerTensor } from "./weight-quantization.js";

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("8-bit linear quantization (onnxruntime semantics)", () => {
  it("rounds half to even", () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 2.5001].map(roundHalfToEven)).toEqual([0, 2, 2, -0, -2, -2, 2, 3]);
  });

  it("computes scale and zero point like compute_scale_zp", () => {
    // uint8 asymmetric over [-1, 2]: scale 3/255, zero point round(1 / scale) = 85.
    const u8 = computeQuantizationParams({ min: -1, max: 2 }, { type: "uint8", symmetric: false });
    expect(u8.scale).toBeCloseTo(3 / 255, 9);
    expect(u8.zeroPoint).toBe(85);
    // The range always includes 0.
    expect(computeQuantizationParams({ min: 1, max: 2.55 }, { type: "uint8", symmetric: false })).toEqual({ scale: Math.fround(0.01), zeroPoint: 0 });
    // int8 symmetric uses ±127 with zero point 0; uint8 symmetric sits on 128.
    expect(computeQuantizationParams({ min: -0.5, max: 1.27 }, { type: "int8", symmetric: true })).toEqual({ scale: Math.fround(0.01), zeroPoint: 0 });
    expect(computeQuantizationParams({ min: -0.5, max: 1.27 }, { type: "uint8", symmetric: true }).zeroPoint).toBe(128);
    expect(computeQuantizationParams({ min: 0, max: 0 }, { type: "int8", symmetric: true }).scale).toBe(1);
    expect(computeQuantizationParams({ min: -1, max: 1 }, { type: "int8", symmetric: true, reduceRange: true }).scale).toBeCloseTo(1 / 64, 9);
  });

  it("rounds x / scale half to even and saturates", () => {
    const out = new Int8Array(5);
    quantizeLinearRange(Float32Array.of(0.025, 0.035, -0.025, 10, -10), out, { scale: 0.01, zeroPoint: 0 }, -127, 127);
    expect(Array.from(out)).toEqual([2, 4, -2, 127, -127]);
  });

  it("quantizes per channel along any axis, within half a step", () => {
    const next = random(1);
    const dims = [8, 5, 3];
    const data = Float32Array.from({ length: 120 }, (_, i) => (next() - 0.5) * (1 + Math.floor(i / 15)));
    for (const axis of [0, 1, 2]) {
      const q = quantizePerChannel(data, dims, axis, { type: "int8", symmetric: true });
      expect(q.scales.length).toBe(dims[axis]);
      const restored = dequantize(q, dims);
      for (let i = 0; i < data.length; i++) {
        const channel = Math.floor(i / dims.slice(axis + 1).reduce((a, b) => a * b, 1)) % dims[axis]!;
        expect(Math.abs(restored[i]! - data[i]!)).toBeLessThanOrEqual(q.scales[channel]! / 2 + 1e-7);
      }
    }
  });

  it("gives bit-identical results with and without WebAssembly SIMD", () => {
    expect(isSimdAvailable()).toBe(true);
    const next = random(2);
    // 64 columns hit the SIMD column kernel; 1000 + 7 elements exercise the scalar tail; .5 steps exercise ties.
    const data = Float32Array.from({ length: 64 * 1007 }, (_, i) => (i % 9 === 0 ? Math.round((next() - 0.5) * 200) / 2 / 100 : (next() - 0.5) * 3));
    for (const type of ["int8", "uint8"] as const) {
      for (const symmetric of [true, false]) {
        const options = { type, symmetric };
        const same = (a: QuantizedTensor, b: QuantizedTensor) =>
          Buffer.compare(Buffer.from(a.data.buffer), Buffer.from(b.data.buffer)) === 0 && Buffer.compare(Buffer.from(a.scales.buffer), Buffer.from(b.scales.buffer)) === 0;
        expect(same(quantizePerTensor(data, { ...options, simd: true }), quantizePerTensor(data, { ...options, simd: false }))).toBe(true);
        for (const axis of [0, 1]) {
          expect(same(quantizePerChannel(data, [1007, 64], axis, { ...options, simd: true }), quantizePerChannel(data, [1007, 64], axis, { ...options, simd: false }))).toBe(true);
        }
      }
    }
  });

  it("quantizes a weight streamed in chunks exactly as in one piece (per tensor and per column)", () => {
    const next = random(5);
    const rows = 37;
    const cols = 48;
    const data = Float32Array.from({ length: rows * cols }, () => (next() - 0.3) * 4);
    for (const [columns, whole] of [
      [undefined, quantizePerTensor(data, { type: "int8", symmetric: true })],
      [cols, quantizePerChannel(data, [rows, cols], 1, { type: "uint8", symmetric: false })],
    ] as const) {
      const options = { type: columns ? ("uint8" as const) : ("int8" as const), symmetric: !columns };
      const quantizer = new ChunkedWeightQuantizer(options, columns);
      // Chunks of 5 rows (the last shorter), as a file is read through a reused buffer.
      const chunks = Array.from({ length: Math.ceil(rows / 5) }, (_, i) => data.subarray(i * 5 * cols, Math.min(rows, (i + 1) * 5) * cols));
      chunks.forEach((chunk) => quantizer.observe(chunk));
      const { scales, zeroPoints } = quantizer.finish();
      expect(scales).toEqual(whole.scales);
      expect(zeroPoints).toEqual(whole.zeroPoints);
      const out = columns ? new Uint8Array(data.length) : new Int8Array(data.length);
      let at = 0;
      for (const chunk of chunks) {
        quantizer.quantize(chunk, out.subarray(at, at + chunk.length));
        at += chunk.length;
      }
      expect(out).toEqual(whole.data);
    }
  });
});
