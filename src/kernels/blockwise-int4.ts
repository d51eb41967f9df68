import { roundHalfToEven } from "./linear-quantization.js";

/**
 * 4-bit blockwise weight quantization in the layout of ONNX Runtime's com.microsoft.MatMulNBits:
 * B [K, N] is quantized along K in blocks of `blockSize`; the packed tensor is [N][nBlocks][blockSize/2]
 * bytes, two values per byte with the lower K index in the low nibble; scales are [N, nBlocks];
 * integer zero points are packed the same way per row of N ([N, ceil(nBlocks/2)] bytes), float zero
 * points (HQQ) are [N, nBlocks]. Without zero points the runtime uses 8.
 */

export type Int4Method = "rtn" | "hqq";

export interface BlockwiseInt4Options {
  blockSize: number;
  /** Symmetric: zero point 8 implied (no zero-point tensor). Asymmetric: per-block zero points. */
  symmetric: boolean;
  method: Int4Method;
}

export interface BlockwiseInt4Result {
  k: number;
  n: number;
  blockSize: number;
  blockCount: number;
  /** [N, blockCount, blockSize / 2] */
  packed: Uint8Array;
  /** [N, blockCount] */
  scales: Float32Array;
  /** Packed uint8 [N, ceil(blockCount / 2)] for asymmetric round-to-nearest. */
  zeroPoints?: Uint8Array;
  /** Float [N, blockCount] for HQQ, whose optimized zero points are not integers. */
  floatZeroPoints?: Float32Array;
}

export function blockCountFor(k: number, blockSize: number): number {
  return Math.ceil(k / blockSize);
}

/** Transpose row-major [rows, cols] into [cols, rows], in tiles to stay cache-friendly. */
export function transposeMatrix(source: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  const tile = 32;
  for (let r0 = 0; r0 < rows; r0 += tile) {
    const r1 = Math.min(rows, r0 + tile);
    for (let c0 = 0; c0 < cols; c0 += tile) {
      const c1 = Math.min(cols, c0 + tile);
      for (let r = r0; r < r1; r++) {
        const rowBase = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = source[rowBase + c]!;
      }
    }
  }
  return out;
}

/** Output buffers for `n` rows, to be filled by quantizeInt4Rows (possibly by several workers). */
export function allocateInt4Result(k: number, n: number, options: BlockwiseInt4Options): BlockwiseInt4Result {
  const blockCount = blockCountFor(k, options.blockSize);
  const result: BlockwiseInt4Result = {
    k,
    n,
    blockSize: options.blockSize,
    blockCount,
    packed: new Uint8Array(n * blockCount * (options.blockSize / 2)),
    scales: new Float32Array(n * blockCount),
  };
  if (options.method === "hqq") result.floatZeroPoints = new Float32Array(n * blockCount);
  else if (!options.symmetric) result.zeroPoints = new Uint8Array(n * Math.ceil(blockCount / 2));
  return result;
}

/**
 * Quantize rows [rowStart, rowEnd) of the transposed weight `weightT` ([N, K]) into `result`.
 * Each row of N is independent, which is what lets workers split the work.
 */
export function quantizeInt4Rows(
  weightT: Float32Array,
  result: BlockwiseInt4Result,
  options: BlockwiseInt4Options,
  rowStart: number,
  rowEnd: number,
): void {
  const { k, blockSize, blockCount } = result;
  const block = new Float32Array(blockSize);
  const codes = new Uint8Array(blockSize);
  for (let row = rowStart; row < rowEnd; row++) {
    for (let b = 0; b < blockCount; b++) {
      const kStart = b * blockSize;
      const length = Math.min(blockSize, k - kStart);
      block.fill(0);
      block.set(weightT.subarray(row * k + kStart, row * k + kStart + length));
      if (options.method === "hqq") {
        const { scale, zeroPoint } = quantizeBlockHqq(block, length, codes);
        storeBlock(result, row, b, codes, scale, 0);
        result.floatZeroPoints![row * blockCount + b] = zeroPoint;
      } else {
        // Symmetric: the value of largest magnitude maps to code 0 (scale = value / -8) so all 16 codes are used, as onnxruntime does.
        const { scale, zeroPoint } = blockParams(block, 0, length, options.symmetric);
        fillCodes(block, codes, scale, zeroPoint);
        storeBlock(result, row, b, codes, scale, zeroPoint);
      }
    }
  }
}

/** Scale and zero point of one block as round-to-nearest chooses them (symmetric: zero point 8). */
export function blockParams(values: ArrayLike<number>, start: number, end: number, symmetric: boolean): { scale: number; zeroPoint: number } {
  if (symmetric) {
    let extreme = 0;
    for (let i = start; i < end; i++) if (Math.abs(values[i]!) > Math.abs(extreme)) extreme = values[i]!;
    return { scale: Math.fround(extreme / -8), zeroPoint: 8 };
  }
  let min = 0;
  let max = 0;
  for (let i = start; i < end; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const scale = Math.fround((max - min) / 15);
  return { scale, zeroPoint: scale === 0 ? 0 : Math.min(15, Math.max(0, roundHalfToEven(-min / scale))) };
}

/** One value's 4-bit code. */
export function int4Code(value: number, scale: number, zeroPoint: number): number {
  if (scale === 0) return zeroPoint;
  const q = roundHalfToEven(Math.fround(value / scale)) + zeroPoint;
  return q < 0 ? 0 : q > 15 ? 15 : q;
}

/** Store a row's codes and parameters for block `b` into `result` (MatMulNBits layout). */
export function storeBlock(result: BlockwiseInt4Result, row: number, b: number, codes: Uint8Array, scale: number, zeroPoint: number): void {
  const slot = row * result.blockCount + b;
  result.scales[slot] = scale;
  if (result.zeroPoints) {
    const byte = row * Math.ceil(result.blockCount / 2) + (b >> 1);
    result.zeroPoints[byte] = result.zeroPoints[byte]! | ((b & 1) === 0 ? zeroPoint : zeroPoint << 4);
  }
  const blob = result.blockSize / 2;
  for (let i = 0; i < blob; i++) result.packed[slot * blob + i] = codes[2 * i]! | (codes[2 * i + 1]! << 4);
}

function fillCodes(block: Float32Array, codes: Uint8Array, scale: number, zeroPoint: number): void {
  for (let i = 0; i < block.length; i++) codes[i] = int4Code(block[i]!, scale, zeroPoint);
}

const hqqIterations = 20;
const hqqLpNorm = 0.7;
const hqqBeta = 10;
const hqqKappa = 1.01;

/**
 * Half-Quadratic Quantization (Badri & Shaji, 2023): keep the min/max scale, and optimise a
 * non-integer zero point by proximal steps on an lp<1 norm of the error, which tolerates the
 * outliers that round-to-nearest spends its range on. Data-free.
 */
function quantizeBlockHqq(block: Float32Array, length: number, codes: Uint8Array): { scale: number; zeroPoint: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < length; i++) {
    const v = block[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!(max > min)) {
    codes.fill(0);
    return { scale: 1, zeroPoint: -min };
  }
  // HQQ works with the inverse scale: q = w * inverse + zero.
  const inverse = Math.min(15 / (max - min), 2e4);
  let zero = -min * inverse;
  let beta = hqqBeta;
  let bestError = Infinity;
  let bestZero = zero;
  for (let iteration = 0; iteration < hqqIterations; iteration++) {
    let error = 0;
    let zeroSum = 0;
    for (let i = 0; i < length; i++) {
      const w = block[i]!;
      let q = Math.round(w * inverse + zero);
      q = q < 0 ? 0 : q > 15 ? 15 : q;
      const residual = w - (q - zero) / inverse;
      error += Math.abs(residual);
      const magnitude = Math.abs(residual);
      const shrunk = magnitude === 0 ? 0 : Math.sign(residual) * Math.max(0, magnitude - magnitude ** (hqqLpNorm - 1) / beta);
      zeroSum += q - (w - shrunk) * inverse;
    }
    error /= length;
    if (error < bestError) {
      bestError = error;
      bestZero = zero;
    } else {
      break;
    }
    zero = zeroSum / length;
    beta *= hqqKappa;
  }
  const scale = Math.fround(1 / inverse);
  const zeroPoint = Math.fround(bestZero);
  for (let i = 0; i < codes.length; i++) {
    const q = i < length ? Math.round(block[i]! / scale + zeroPoint) : Math.round(zeroPoint);
    codes[i] = q < 0 ? 0 : q > 15 ? 15 : q;
  }
  return { scale, zeroPoint };
}

/** Quantize B [K, N] (MatMul's right-hand weight, row-major) on the calling thread. */
export function quantizeInt4(weight: Float32Array, k: number, n: number, options: BlockwiseInt4Options): BlockwiseInt4Result {
  const weightT = transposeMatrix(weight, k, n);
  const result = allocateInt4Result(k, n, options);
  quantizeInt4Rows(weightT, result, options, 0, n);
  return result;
}

/** Dequantize back to B [K, N], for error measurement and tests. */
export function dequantizeInt4(result: BlockwiseInt4Result): Float32Array {
  const { k, n, blockSize, blockCount } = result;
  const out = new Float32Array(k * n);
  const blob = blockSize / 2;
  const zpRow = Math.ceil(blockCount / 2);
  for (let row = 0; row < n; row++) {
    for (let b = 0; b < blockCount; b++) {
      const slot = row * blockCount + b;
      const scale = result.scales[slot]!;
      let zeroPoint = 8;
      if (result.floatZeroPoints) zeroPoint = result.floatZeroPoints[slot]!;
      else if (result.zeroPoints) {
        const byte = result.zeroPoints[row * zpRow + (b >> 1)]!;
        zeroPoint = (b & 1) === 0 ? byte & 0x0f : byte >> 4;
      }
      for (let i = 0; i < blockSize; i++) {
        const kk = b * blockSize + i;
        if (kk >= k) break;
        const byte = result.packed[slot * blob + (i >> 1)]!;
        const code = (i & 1) === 0 ? byte & 0x0f : byte >> 4;
        out[kk * n + row] = (code - zeroPoint) * scale;
      }
    }
  }
  return out;
}
