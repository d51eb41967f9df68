import { describe, expect, it } from "vitest";
import { dequantizeInt4, quantizeInt4, type BlockwiseInt4Options } from "./blockwise-int4.js";
import { accumulateHessian, createHessian, quantizeInt4Gptq } from "./gptq.js";
import { Int4WorkerPool } from "./parallel-int4.js";

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

const rtn: BlockwiseInt4Options = { blockSize: 32, symmetric: true, method: "rtn" };

describe("4-bit blockwise quantization in MatMulNBits layout", () => {
  it("packs two codes per byte, lower K index in the low nibble, blocks along K per column", () => {
    // B [K=32, N=2]: column 0 counts up, column 1 is constant; symmetric scale = extreme / -8.
    const k = 32;
    const weight = new Float32Array(k * 2);
    for (let r = 0; r < k; r++) {
      weight[r * 2] = (r - 8) * 0.5;
      weight[r * 2 + 1] = -1;
    }
    const q = quantizeInt4(weight, k, 2, rtn);
    expect(q.packed.length).toBe(2 * 1 * 16);
    expect(q.scales[0]).toBeCloseTo(11.5 / -8, 6);
    // Column 1: extreme -1 → scale 0.125, every code 0 (= -8 + 8).
    expect(q.scales[1]).toBeCloseTo(0.125, 6);
    expect(Array.from(q.packed.subarray(16, 32))).toEqual(new Array(16).fill(0));
    // Column 0, rows 0 and 1: -4 and -3.5 → codes round(-4 / -1.4375) + 8 = 11 and round(2.43) + 8 = 10.
    expect(q.packed[0]! & 0x0f).toBe(11);
    expect(q.packed[0]! >> 4).toBe(10);
    expect(q.zeroPoints).toBeUndefined();
  });

  it("packs asymmetric zero points per column, padding odd block counts", () => {
    const next = random(3);
    const k = 96;
    const n = 3;
    const weight = Float32Array.from({ length: k * n }, () => next() + 0.3);
    const q = quantizeInt4(weight, k, n, { ...rtn, symmetric: false });
    expect(q.blockCount).toBe(3);
    expect(q.zeroPoints?.length).toBe(n * 2);
    const restored = dequantizeInt4(q);
    for (let i = 0; i < weight.length; i++) {
      const scale = q.scales[(i % n) * 3 + Math.floor(Math.floor(i / n) / 32)]!;
      expect(Math.abs(restored[i]! - weight[i]!)).toBeLessThanOrEqual(scale / 2 + 1e-6);
    }
  });

  it("handles K that is not a multiple of the block size", () => {
    const next = random(4);
    const weight = Float32Array.from({ length: 50 * 4 }, next);
    const q = quantizeInt4(weight, 50, 4, rtn);
    expect(q.blockCount).toBe(2);
    const restored = dequantizeInt4(q);
    for (let i = 0; i < weight.length; i++) expect(Math.abs(restored[i]! - weight[i]!)).toBeLessThan(0.07);
  });

  it("HQQ lowers the mean absolute error of weights with outliers", () => {
    const next = random(5);
    const weight = Float32Array.from({ length: 256 * 64 }, (_, i) => next() * 0.1 + (i % 37 === 0 ? next() * 2 : 0));
    const error = (q: ReturnType<typeof quantizeInt4>) => dequantizeInt4(q).reduce((sum, v, i) => sum + Math.abs(v - weight[i]!), 0);
    const base = error(quantizeInt4(weight, 256, 64, { ...rtn, symmetric: false }));
    const hqq = error(quantizeInt4(weight, 256, 64, { ...rtn, symmetric: false, method: "hqq" }));
    expect(hqq).toBeLessThan(base * 0.9);
  });

  it("GPTQ lowers the output error on correlated inputs", () => {
    const next = random(6);
    const [k, n, rows] = [128, 32, 256];
    const weight = Float32Array.from({ length: k * n }, () => next() * 0.2);
    const inputs = new Float32Array(rows * k);
    for (let r = 0; r < rows; r++) {
      const base = next() * 4;
      for (let i = 0; i < k; i++) inputs[r * k + i] = base * Math.sin(i * 0.1) + next() * 0.3;
    }
    const hessian = createHessian(k);
    accumulateHessian(hessian, inputs);
    const outputError = (w: Float32Array) => {
      let noise = 0;
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < n; c++) {
          let diff = 0;
          for (let i = 0; i < k; i++) diff += inputs[r * k + i]! * (w[i * n + c]! - weight[i * n + c]!);
          noise += diff * diff;
        }
      }
      return noise;
    };
    const base = outputError(dequantizeInt4(quantizeInt4(weight, k, n, rtn)));
    const gptq = outputError(dequantizeInt4(quantizeInt4Gptq(weight, k, n, hessian, { blockSize: 32, symmetric: true, damping: 0.01 })));
    expect(gptq).toBeLessThan(base / 5);
  });

  it("gives identical results on worker threads", async () => {
    const next = random(7);
    const weight = Float32Array.from({ length: 256 * 192 }, next);
    const pool = await Int4WorkerPool.start(2);
    try {
      for (const options of [{ ...rtn, symmetric: false, method: "hqq" as const }]) {
        expect(await pool.quantize(weight, 256, 192, options)).toEqual(quantizeInt4(weight, 256, 192, options));
      }
    } finally {
      await pool.close();
    }
  });
});
