import type { MinMax, QuantizationParams } from "./linear-quantization.js";
import { assembleModule, op, simdCode, valueType, type WasmFunction } from "./wasm-module-bytes.js";

/**
 * WebAssembly SIMD versions of the 8-bit quantization loops. f32x4.div is IEEE float32 division and
 * f32x4.nearest rounds half to even, so results are bit-identical to the scalar code (and to ONNX
 * Runtime's QuantizeLinear); saturation comes from clamping and the saturating narrows.
 */

const { i32, f32, v128 } = valueType;
const lanes = (code: number) => op.simd(code);

/** Four float vectors at `address` + 0/16/32/48 → clamped int32 vectors in locals first..first+3. */
function quantizeFour(address: number[], scaleFor: (j: number) => number[], zeroFor: (j: number) => number[], vMin: number, vMax: number, first: number): number[] {
  const body: number[] = [];
  for (let j = 0; j < 4; j++) {
    body.push(
      ...address, ...op.v128Load(16 * j),
      ...scaleFor(j), ...lanes(simdCode.f32x4Div),
      ...lanes(simdCode.f32x4Nearest),
      ...lanes(simdCode.i32x4TruncSatF32x4S),
      ...zeroFor(j), ...lanes(simdCode.i32x4Add),
      ...op.localGet(vMin), ...lanes(simdCode.i32x4MaxS),
      ...op.localGet(vMax), ...lanes(simdCode.i32x4MinS),
      ...op.localSet(first + j),
    );
  }
  return body;
}

/** Narrow four int32 vectors (locals first..first+3) to 16 bytes and store them at local `dst`. */
function narrowStore(dst: number, first: number, unsigned: boolean): number[] {
  return [
    ...op.localGet(dst),
    ...op.localGet(first), ...op.localGet(first + 1), ...lanes(simdCode.i16x8NarrowI32x4S),
    ...op.localGet(first + 2), ...op.localGet(first + 3), ...lanes(simdCode.i16x8NarrowI32x4S),
    ...lanes(unsigned ? simdCode.i8x16NarrowI16x8U : simdCode.i8x16NarrowI16x8S),
    ...op.v128Store(0),
  ];
}

function increment(local: number, by: number): number[] {
  return [...op.localGet(local), ...op.i32Const(by), ...op.i32Add, ...op.localSet(local)];
}

/** quantize(src, dst, srcEnd, scale, zeroPoint, qMin, qMax): 16 values per iteration. */
function quantizeFunction(unsigned: boolean): WasmFunction {
  const [src, dst, end, scale, zero, qMin, qMax, vScale, vZero, vMin, vMax, t0] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  return {
    name: unsigned ? "quantizeU8" : "quantizeI8",
    params: [i32, i32, i32, f32, i32, i32, i32],
    results: [],
    locals: [v128, v128, v128, v128, v128, v128, v128, v128],
    body: [
      ...op.localGet(scale), ...lanes(simdCode.f32x4Splat), ...op.localSet(vScale),
      ...op.localGet(zero), ...lanes(simdCode.i32x4Splat), ...op.localSet(vZero),
      ...op.localGet(qMin), ...lanes(simdCode.i32x4Splat), ...op.localSet(vMin),
      ...op.localGet(qMax), ...lanes(simdCode.i32x4Splat), ...op.localSet(vMax),
      ...op.block, ...op.loop,
      ...op.localGet(src), ...op.localGet(end), ...op.i32GeU, ...op.brIf(1),
      ...quantizeFour(op.localGet(src), () => op.localGet(vScale), () => op.localGet(vZero), vMin, vMax, t0),
      ...narrowStore(dst, t0, unsigned),
      ...increment(src, 64), ...increment(dst, 16),
      ...op.br(0), ...op.end, ...op.end,
    ],
  };
}

/**
 * quantizeColumns(src, dst, rows, cols, scales, zeroPoints, qMin, qMax): per-column parameters
 * (float32 scales, int32 zero points) for a row-major matrix whose column count is a multiple of 16.
 */
function quantizeColumnsFunction(unsigned: boolean): WasmFunction {
  const [src, dst, rows, cols, scales, zeros, qMin, qMax, row, col, colBytes, vMin, vMax, t0] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const at = (base: number) => [...op.localGet(base), ...op.localGet(col), ...op.i32Add];
  return {
    name: unsigned ? "quantizeColumnsU8" : "quantizeColumnsI8",
    params: [i32, i32, i32, i32, i32, i32, i32, i32],
    results: [],
    locals: [i32, i32, i32, v128, v128, v128, v128, v128, v128],
    body: [
      ...op.localGet(qMin), ...lanes(simdCode.i32x4Splat), ...op.localSet(vMin),
      ...op.localGet(qMax), ...lanes(simdCode.i32x4Splat), ...op.localSet(vMax),
      ...op.localGet(cols), ...op.i32Const(2), ...op.i32Shl, ...op.localSet(colBytes),
      ...op.block, ...op.loop,
      ...op.localGet(row), ...op.localGet(rows), ...op.i32GeU, ...op.brIf(1),
      ...op.i32Const(0), ...op.localSet(col),
      ...op.block, ...op.loop,
      ...op.localGet(col), ...op.localGet(colBytes), ...op.i32GeU, ...op.brIf(1),
      ...quantizeFour(at(src), (j) => [...at(scales), ...op.v128Load(16 * j)], (j) => [...at(zeros), ...op.v128Load(16 * j)], vMin, vMax, t0),
      ...narrowStore(dst, t0, unsigned),
      ...increment(dst, 16), ...increment(col, 64),
      ...op.br(0), ...op.end, ...op.end,
      ...op.localGet(src), ...op.localGet(colBytes), ...op.i32Add, ...op.localSet(src),
      ...increment(row, 1),
      ...op.br(0), ...op.end, ...op.end,
    ],
  };
}

const infinityBytes = [0x00, 0x00, 0x80, 0x7f];
const negativeInfinityBytes = [0x00, 0x00, 0x80, 0xff];

/** minMax(src, srcEnd): lane-wise min/max (NaN ignored) stored at bytes 0..31 for the caller to reduce. */
function minMaxFunction(): WasmFunction {
  const [src, end, vMin, vMax, value] = [0, 1, 2, 3, 4];
  return {
    name: "minMax",
    params: [i32, i32],
    results: [],
    locals: [v128, v128, v128],
    body: [
      ...op.simd(0x0c, ...infinityBytes, ...infinityBytes, ...infinityBytes, ...infinityBytes), ...op.localSet(vMin),
      ...op.simd(0x0c, ...negativeInfinityBytes, ...negativeInfinityBytes, ...negativeInfinityBytes, ...negativeInfinityBytes), ...op.localSet(vMax),
      ...op.block, ...op.loop,
      ...op.localGet(src), ...op.localGet(end), ...op.i32GeU, ...op.brIf(1),
      ...op.localGet(src), ...op.v128Load(0), ...op.localSet(value),
      // pmin(a, b) = b < a ? b : a: a NaN in b leaves the accumulator alone.
      ...op.localGet(vMin), ...op.localGet(value), ...lanes(simdCode.f32x4Pmin), ...op.localSet(vMin),
      ...op.localGet(vMax), ...op.localGet(value), ...lanes(simdCode.f32x4Pmax), ...op.localSet(vMax),
      ...increment(src, 16),
      ...op.br(0), ...op.end, ...op.end,
      ...op.i32Const(0), ...op.localGet(vMin), ...op.v128Store(0),
      ...op.i32Const(16), ...op.localGet(vMax), ...op.v128Store(0),
    ],
  };
}

/** The slice of the WebAssembly API used here (the project's lib settings do not declare it). */
interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface KernelExports {
  memory: WasmMemory;
  quantizeI8(src: number, dst: number, end: number, scale: number, zero: number, qMin: number, qMax: number): void;
  quantizeU8(src: number, dst: number, end: number, scale: number, zero: number, qMin: number, qMax: number): void;
  quantizeColumnsI8(src: number, dst: number, rows: number, cols: number, scales: number, zeros: number, qMin: number, qMax: number): void;
  quantizeColumnsU8(src: number, dst: number, rows: number, cols: number, scales: number, zeros: number, qMin: number, qMax: number): void;
  minMax(src: number, end: number): void;
}

let kernels: KernelExports | null | undefined;

/** The compiled kernels, or null where WebAssembly SIMD is unavailable (callers fall back to scalar code). */
function loadKernels(): KernelExports | null {
  if (kernels !== undefined) return kernels;
  const bytes = assembleModule(
    [quantizeFunction(false), quantizeFunction(true), quantizeColumnsFunction(false), quantizeColumnsFunction(true), minMaxFunction()],
    1,
  );
  kernels = wasm.validate(bytes)
    ? (new wasm.Instance(new wasm.Module(bytes)).exports as KernelExports)
    : null;
  return kernels;
}

export function isSimdAvailable(): boolean {
  return loadKernels() !== null;
}

/** Bytes 0..63 are scratch for minMax; data starts here. */
const dataOffset = 64;
/** Elements per call, so wasm memory stays bounded whatever the tensor size. */
const chunkElements = 1 << 22;

function ensureMemory(k: KernelExports, bytes: number): void {
  const needed = Math.ceil((dataOffset + bytes) / 65536) - k.memory.buffer.byteLength / 65536;
  if (needed > 0) k.memory.grow(needed);
}

/** Min/max of `data` with SIMD; undefined when SIMD is unavailable. */
export function findMinMaxSimd(data: Float32Array): MinMax | undefined {
  const k = loadKernels();
  if (!k) return undefined;
  let min = Infinity;
  let max = -Infinity;
  for (let start = 0; start < data.length; start += chunkElements) {
    const chunk = data.subarray(start, Math.min(data.length, start + chunkElements));
    const vectorLength = chunk.length & ~3;
    ensureMemory(k, chunk.byteLength);
    new Float32Array(k.memory.buffer, dataOffset, vectorLength).set(chunk.subarray(0, vectorLength));
    k.minMax(dataOffset, dataOffset + vectorLength * 4);
    const lanesOut = new Float32Array(k.memory.buffer, 0, 8);
    for (let i = 0; i < 4; i++) {
      if (lanesOut[i]! < min) min = lanesOut[i]!;
      if (lanesOut[4 + i]! > max) max = lanesOut[4 + i]!;
    }
    for (let i = vectorLength; i < chunk.length; i++) {
      const v = chunk[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return min === Infinity ? { min: 0, max: 0 } : { min, max };
}

/**
 * Quantize the 16-aligned prefix of `data` into `target` with one scale / zero point; returns how many
 * elements were done (the caller finishes the tail), or 0 when SIMD is unavailable.
 */
export function quantizeLinearSimd(data: Float32Array, target: Int8Array | Uint8Array, params: QuantizationParams, qMin: number, qMax: number): number {
  const k = loadKernels();
  if (!k) return 0;
  const unsigned = target instanceof Uint8Array;
  const total = data.length & ~15;
  for (let start = 0; start < total; start += chunkElements) {
    const count = Math.min(chunkElements, total - start);
    ensureMemory(k, count * 5);
    new Float32Array(k.memory.buffer, dataOffset, count).set(data.subarray(start, start + count));
    const dst = dataOffset + count * 4;
    (unsigned ? k.quantizeU8 : k.quantizeI8)(dataOffset, dst, dataOffset + count * 4, params.scale, params.zeroPoint, qMin, qMax);
    target.set(new (unsigned ? Uint8Array : Int8Array)(k.memory.buffer, dst, count), start);
  }
  return total;
}

/**
 * Per-column quantization of a row-major [rows, cols] matrix (cols a multiple of 16). Returns false
 * when SIMD is unavailable or the shape does not fit, so the caller uses scalar code.
 */
export function quantizeColumnsSimd(
  data: Float32Array,
  target: Int8Array | Uint8Array,
  rows: number,
  cols: number,
  scales: Float32Array,
  zeroPoints: Int32Array,
  qMin: number,
  qMax: number,
): boolean {
  const k = loadKernels();
  if (!k || cols % 16 !== 0 || cols === 0) return false;
  const unsigned = target instanceof Uint8Array;
  const rowsPerChunk = Math.max(1, Math.floor(chunkElements / cols));
  const paramBytes = cols * 8;
  for (let row = 0; row < rows; row += rowsPerChunk) {
    const count = Math.min(rowsPerChunk, rows - row) * cols;
    ensureMemory(k, paramBytes + count * 5);
    const scalesAt = dataOffset;
    const zerosAt = scalesAt + cols * 4;
    const srcAt = zerosAt + cols * 4;
    const dstAt = srcAt + count * 4;
    new Float32Array(k.memory.buffer, scalesAt, cols).set(scales);
    new Int32Array(k.memory.buffer, zerosAt, cols).set(zeroPoints);
    new Float32Array(k.memory.buffer, srcAt, count).set(data.subarray(row * cols, row * cols + count));
    (unsigned ? k.quantizeColumnsU8 : k.quantizeColumnsI8)(srcAt, dstAt, count / cols, cols, scalesAt, zerosAt, qMin, qMax);
    target.set(new (unsigned ? Uint8Array : Int8Array)(k.memory.buffer, dstAt, count), row * cols);
  }
  return true;
}
