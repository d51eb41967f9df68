/**
 * A minimal WebAssembly binary encoder: enough to assemble the SIMD quantization kernels in
 * simd-quantize.ts at load time, so no prebuilt .wasm blob (nor a toolchain) is needed.
 */

export function unsignedLeb(value: number): number[] {
  const bytes: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (v !== 0);
  return bytes;
}

export function signedLeb(value: number): number[] {
  const bytes: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      bytes.push(byte);
      return bytes;
    }
    bytes.push(byte | 0x80);
  }
}

export const valueType = { i32: 0x7f, f32: 0x7d, v128: 0x7b } as const;
export type ValueType = (typeof valueType)[keyof typeof valueType];

export interface WasmFunction {
  name: string;
  params: ValueType[];
  results: ValueType[];
  /** Extra locals beyond the parameters, in order. */
  locals: ValueType[];
  /** Instruction bytes, without the final `end`. */
  body: number[];
}

function section(id: number, payload: number[]): number[] {
  return [id, ...unsignedLeb(payload.length), ...payload];
}

function vector(items: number[][]): number[] {
  return [...unsignedLeb(items.length), ...items.flat()];
}

function encodeName(name: string): number[] {
  const bytes = [...new TextEncoder().encode(name)];
  return [...unsignedLeb(bytes.length), ...bytes];
}

/** A module with one exported memory ("memory", `initialPages`) and the given exported functions. */
export function assembleModule(functions: WasmFunction[], initialPages: number): Uint8Array {
  const types = functions.map((f) => [0x60, ...vector(f.params.map((t) => [t])), ...vector(f.results.map((t) => [t]))]);
  const typeSection = section(1, vector(types));
  const functionSection = section(3, vector(functions.map((_, index) => unsignedLeb(index))));
  const memorySection = section(5, vector([[0x00, ...unsignedLeb(initialPages)]]));
  const exports = [
    [...encodeName("memory"), 0x02, 0x00],
    ...functions.map((f, index) => [...encodeName(f.name), 0x00, ...unsignedLeb(index)]),
  ];
  const exportSection = section(7, vector(exports));
  const bodies = functions.map((f) => {
    const locals = vector(f.locals.map((t) => [0x01, t]));
    const code = [...locals, ...f.body, 0x0b];
    return [...unsignedLeb(code.length), ...code];
  });
  const codeSection = section(10, vector(bodies));
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...typeSection, ...functionSection, ...memorySection, ...exportSection, ...codeSection]);
}

/** Instruction helpers (core and SIMD opcodes used by the kernels). */
export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...unsignedLeb(depth)],
  brIf: (depth: number) => [0x0d, ...unsignedLeb(depth)],
  localGet: (index: number) => [0x20, ...unsignedLeb(index)],
  localSet: (index: number) => [0x21, ...unsignedLeb(index)],
  i32Const: (value: number) => [0x41, ...signedLeb(value)],
  i32Add: [0x6a],
  i32GeU: [0x4f],
  i32Shl: [0x74],
  simd: (code: number, ...immediates: number[]) => [0xfd, ...unsignedLeb(code), ...immediates],
  v128Load: (offset: number) => [0xfd, 0x00, 0x04, ...unsignedLeb(offset)],
  v128Store: (offset: number) => [0xfd, 0x0b, 0x04, ...unsignedLeb(offset)],
} as const;

/** SIMD opcodes (after the 0xfd prefix). */
export const simdCode = {
  i32x4Splat: 0x11,
  f32x4Splat: 0x13,
  i8x16NarrowI16x8S: 0x65,
  i8x16NarrowI16x8U: 0x66,
  f32x4Nearest: 0x6a,
  i16x8NarrowI32x4S: 0x85,
  i32x4Add: 0xae,
  i32x4MinS: 0xb6,
  i32x4MaxS: 0xb8,
  f32x4Div: 0xe7,
  f32x4Pmin: 0xea,
  f32x4Pmax: 0xeb,
  i32x4TruncSatF32x4S: 0xf8,
} as const;
