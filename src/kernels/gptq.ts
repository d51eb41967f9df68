import { allocateInt4Result, blockParams, int4Code, storeBlock, type BlockwiseInt4Result } from "./blockwise-int4.js";

/** Sum of xᵀx over calibration rows of a MatMul's input, and how many rows went in. */
export interface InputHessian {
  k: number;
  /** Row-major [K, K], float64. */
  matrix: Float64Array;
  rows: number;
}

export function createHessian(k: number): InputHessian {
  return { k, matrix: new Float64Array(k * k), rows: 0 };
}

/** Add the rows of a [..., K] activation to Σ xᵀx (upper triangle, mirrored by finishHessian). */
export function accumulateHessian(hessian: InputHessian, activations: Float32Array): void {
  const { k, matrix } = hessian;
  const rows = activations.length / k;
  for (let r = 0; r < rows; r++) {
    const base = r * k;
    for (let i = 0; i < k; i++) {
      const xi = activations[base + i]!;
      if (xi === 0) continue;
      const rowOffset = i * k;
      for (let j = i; j < k; j++) matrix[rowOffset + j]! += xi * activations[base + j]!;
    }
  }
  hessian.rows += rows;
}

/** In-place lower Cholesky factor of a symmetric positive-definite [n, n] matrix; false if not positive definite. */
function cholesky(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    let diagonal = a[j * n + j]!;
    for (let p = 0; p < j; p++) diagonal -= a[j * n + p]! ** 2;
    if (!(diagonal > 0)) return false;
    const root = Math.sqrt(diagonal);
    a[j * n + j] = root;
    for (let i = j + 1; i < n; i++) {
      let sum = a[i * n + j]!;
      for (let p = 0; p < j; p++) sum -= a[i * n + p]! * a[j * n + p]!;
      a[i * n + j] = sum / root;
    }
    for (let i = 0; i < j; i++) a[i * n + j] = 0;
  }
  return true;
}

/** Inverse of a lower-triangular matrix (in a new array). */
function invertLower(l: Float64Array, n: number): Float64Array {
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    inv[i * n + i] = 1 / l[i * n + i]!;
    for (let j = 0; j < i; j++) {
      let sum = 0;
      for (let p = j; p < i; p++) sum += l[i * n + p]! * inv[p * n + j]!;
      inv[i * n + j] = -sum / l[i * n + i]!;
    }
  }
  return inv;
}

/**
 * Upper Cholesky factor U of H⁻¹ (H⁻¹ = UᵀU), which GPTQ uses to spread each column's rounding
 * error over the columns not yet quantized. Damping is raised until H is positive definite.
 */
function inverseHessianFactor(hessian: InputHessian, damping: number): Float64Array {
  const { k } = hessian;
  const base = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      const v = hessian.matrix[i * k + j]! / Math.max(1, hessian.rows);
      base[i * k + j] = v;
      base[j * k + i] = v;
    }
  }
  let meanDiagonal = 0;
  for (let i = 0; i < k; i++) meanDiagonal += base[i * k + i]!;
  meanDiagonal = meanDiagonal / k || 1;
  for (let attempt = 0; attempt < 8; attempt++) {
    const h = Float64Array.from(base);
    const damp = damping * 10 ** attempt * meanDiagonal;
    // Inputs that never fire carry no information: give them a unit diagonal.
    for (let i = 0; i < k; i++) h[i * k + i] = (h[i * k + i]! === 0 ? 1 : h[i * k + i]!) + damp;
    if (!cholesky(h, k)) continue;
    const lInv = invertLower(h, k);
    // H⁻¹ = L⁻ᵀ L⁻¹; its upper factor U = chol(H⁻¹)ᵀ.
    const hInv = new Float64Array(k * k);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j <= i; j++) {
        let sum = 0;
        for (let p = i; p < k; p++) sum += lInv[p * k + i]! * lInv[p * k + j]!;
        hInv[i * k + j] = sum;
        hInv[j * k + i] = sum;
      }
    }
    if (!cholesky(hInv, k)) continue;
    const upper = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = 0; j <= i; j++) upper[j * k + i] = hInv[i * k + j]!;
    return upper;
  }
  throw new RangeError("the calibration Hessian is not positive definite even with heavy damping");
}

export interface GptqOptions {
  blockSize: number;
  symmetric: boolean;
  /** Fraction of the mean diagonal added to H (0.01 in the GPTQ paper). */
  damping: number;
}

/**
 * GPTQ (Frantar et al., 2022) for MatMulNBits: quantize B [K, N] one input dimension at a time,
 * pushing each column's rounding error onto the dimensions not yet quantized in proportion to
 * the calibration inputs' inverse Hessian. Block scales are chosen from the updated weights when
 * a block starts. Output layout matches quantizeInt4.
 */
export function quantizeInt4Gptq(weight: Float32Array, k: number, n: number, hessian: InputHessian, options: GptqOptions): BlockwiseInt4Result {
  const upper = inverseHessianFactor(hessian, options.damping);
  const result = allocateInt4Result(k, n, { blockSize: options.blockSize, symmetric: options.symmetric, method: "rtn" });
  // Work on Wᵀ [N, K] in float64: rows are outputs, columns the input dimensions GPTQ walks.
  const w = new Float64Array(n * k);
  for (let r = 0; r < k; r++) for (let c = 0; c < n; c++) w[c * k + r] = weight[r * n + c]!;
  const { blockSize } = options;
  const codes = new Uint8Array(n * blockSize);
  const scales = new Float64Array(n);
  const zeroPoints = new Float64Array(n);
  for (let column = 0; column < k; column++) {
    const inBlock = column % blockSize;
    const block = (column - inBlock) / blockSize;
    if (inBlock === 0) {
      codes.fill(0);
      const end = Math.min(k, column + blockSize);
      for (let row = 0; row < n; row++) {
        const params = blockParams(w, row * k + column, row * k + end, options.symmetric);
        scales[row] = params.scale;
        zeroPoints[row] = params.zeroPoint;
      }
    }
    const pivot = upper[column * k + column]!;
    for (let row = 0; row < n; row++) {
      const value = w[row * k + column]!;
      const code = int4Code(value, scales[row]!, zeroPoints[row]!);
      codes[row * blockSize + inBlock] = code;
      const error = (value - (code - zeroPoints[row]!) * scales[row]!) / pivot;
      const rowBase = row * k;
      for (let j = column + 1; j < k; j++) w[rowBase + j]! -= error * upper[column * k + j]!;
    }
    const blockDone = inBlock === blockSize - 1 || column === k - 1;
    if (blockDone) {
      for (let row = 0; row < n; row++) {
        // Padding past K keeps the zero point's code, which dequantizes to 0.
        const rowCodes = codes.subarray(row * blockSize, (row + 1) * blockSize);
        for (let i = inBlock + 1; i < blockSize; i++) rowCodes[i] = zeroPoints[row]!;
        storeBlock(result, row, block, rowCodes, scales[row]!, zeroPoints[row]!);
      }
    }
  }
  return result;
}
