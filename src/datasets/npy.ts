import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "../core/atomic-write.js";
import type { Dtype } from "../core/dtypes.js";
import { EdgeforgeError, fileError } from "../core/errors.js";
import { elementCount, type Tensor, type TensorData } from "../core/tensor.js";

/**
 * NumPy .npy files (format versions 1.0, 2.0 and 3.0): a magic string, a little-endian header
 * length, a Python-literal header {'descr', 'fortran_order', 'shape'}, then raw element bytes.
 * Parsed arrays are typed-array views over the file's bytes whenever layout and alignment allow.
 */
const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

interface NpyKind {
  dtype: Dtype;
  bytes: number;
  make: (buffer: ArrayBuffer, offset: number, length: number) => TensorData;
}

const npyKinds: Record<string, NpyKind> = {
  f4: { dtype: "float32", bytes: 4, make: (b, o, n) => new Float32Array(b, o, n) },
  f8: { dtype: "float64", bytes: 8, make: (b, o, n) => new Float64Array(b, o, n) },
  f2: { dtype: "float16", bytes: 2, make: (b, o, n) => new Uint16Array(b, o, n) },
  i1: { dtype: "int8", bytes: 1, make: (b, o, n) => new Int8Array(b, o, n) },
  u1: { dtype: "uint8", bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  b1: { dtype: "bool", bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  i2: { dtype: "int16", bytes: 2, make: (b, o, n) => new Int16Array(b, o, n) },
  u2: { dtype: "uint16", bytes: 2, make: (b, o, n) => new Uint16Array(b, o, n) },
  i4: { dtype: "int32", bytes: 4, make: (b, o, n) => new Int32Array(b, o, n) },
  u4: { dtype: "uint32", bytes: 4, make: (b, o, n) => new Uint32Array(b, o, n) },
  i8: { dtype: "int64", bytes: 8, make: (b, o, n) => new BigInt64Array(b, o, n) },
  u8: { dtype: "uint64", bytes: 8, make: (b, o, n) => new BigUint64Array(b, o, n) },
};

const dtypeToDescr: Partial<Record<Dtype, string>> = {
  float32: "<f4",
  float64: "<f8",
  float16: "<f2",
  int8: "|i1",
  uint8: "|u1",
  bool: "|b1",
  int16: "<i2",
  uint16: "<u2",
  int32: "<i4",
  uint32: "<u4",
  int64: "<i8",
  uint64: "<u8",
};

function invalid(source: string, message: string, hint: string): EdgeforgeError {
  return new EdgeforgeError("DATASET_INVALID", `${source}: ${message}`, { hint, details: { source } });
}

interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

/** Parse the header's Python dict literal: only the three documented keys and their literal forms. */
function parseHeaderLiteral(text: string, source: string): NpyHeader {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    const structured = /'descr'\s*:\s*\[/.test(text);
    throw invalid(
      source,
      structured ? "structured (record) arrays are not supported" : "the .npy header is not a {'descr', 'fortran_order', 'shape'} dict",
      structured ? "save one plain array per input (np.save on a numeric array)" : "write the file with numpy.save",
    );
  }
  const shape = shapeText
    .split(",")
    .map((part) => part.trim().replace(/L$/, ""))
    .filter((part) => part.length > 0)
    .map(Number);
  if (shape.some((dim) => !Number.isSafeInteger(dim) || dim < 0)) {
    throw invalid(source, `bad shape (${shapeText})`, "write the file with numpy.save");
  }
  return { descr, fortranOrder: fortran === "True", shape };
}

/** Decode .npy bytes. The result views `bytes` when it is little-endian, C-ordered and aligned; otherwise it is a copy. */
export function parseNpy(bytes: Uint8Array, source = "<npy>"): Tensor {
  if (bytes.length < 10 || magic.some((value, index) => bytes[index] !== value)) {
    throw invalid(source, "not a .npy file (missing \\x93NUMPY magic)", "pass files written by numpy.save");
  }
  const major = bytes[6] as number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw invalid(source, "truncated header", "the file is incomplete; write it again");
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw invalid(source, `unsupported .npy format version ${major}.${bytes[7]}`, "numpy writes versions 1.0–3.0; save with a current numpy");
  }
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) throw invalid(source, "truncated header", "the file is incomplete; write it again");
  const headerText = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(headerStart, dataStart));
  const header = parseHeaderLiteral(headerText, source);
  const order = header.descr[0] ?? "";
  const kind = npyKinds[header.descr.slice(1)];
  if (!kind || !"<>|=".includes(order) || header.descr.length !== 3) {
    throw new EdgeforgeError("UNSUPPORTED_FEATURE", `${source}: .npy element type '${header.descr}' is not supported`, {
      hint: `convert the array to one of: ${Object.keys(npyKinds).join(", ")} (e.g. arr.astype(np.float32))`,
      details: { source, descr: header.descr },
    });
  }
  const count = elementCount(header.shape);
  const byteLength = count * kind.bytes;
  if (dataStart + byteLength > bytes.length) {
    throw new EdgeforgeError("TRUNCATED_FILE", `${source}: header declares ${byteLength} data bytes but ${bytes.length - dataStart} follow it`, {
      hint: "the file is incomplete; write it again",
      details: { source, expectedBytes: byteLength, actualBytes: bytes.length - dataStart },
    });
  }
  const absoluteOffset = bytes.byteOffset + dataStart;
  const bigEndian = order === ">" && kind.bytes > 1;
  let data: TensorData;
  if (!bigEndian && absoluteOffset % kind.bytes === 0) {
    data = kind.make(bytes.buffer as ArrayBuffer, absoluteOffset, count);
  } else {
    // A copy through a fresh Uint8Array: a Node Buffer's slice() is a view of its (pooled) memory.
    const copy = new Uint8Array(bytes.subarray(dataStart, dataStart + byteLength));
    if (bigEndian) swapBytes(copy, kind.bytes);
    data = kind.make(copy.buffer, 0, count);
  }
  if (header.fortranOrder && header.shape.length > 1) data = fortranToC(data, header.shape);
  return { dtype: kind.dtype, dims: header.shape, data };
}

function swapBytes(bytes: Uint8Array, width: number): void {
  for (let start = 0; start < bytes.length; start += width) bytes.subarray(start, start + width).reverse();
}

/** Reorder a column-major array into row-major order (a copy). */
function fortranToC(data: TensorData, shape: readonly number[]): TensorData {
  const result = new (data.constructor as new (length: number) => TensorData)(data.length);
  const rank = shape.length;
  const fortranStrides = new Array<number>(rank);
  let stride = 1;
  for (let axis = 0; axis < rank; axis += 1) {
    fortranStrides[axis] = stride;
    stride *= shape[axis] as number;
  }
  const index = new Array<number>(rank).fill(0);
  for (let flat = 0; flat < data.length; flat += 1) {
    let source = 0;
    for (let axis = 0; axis < rank; axis += 1) source += (index[axis] as number) * (fortranStrides[axis] as number);
    (result as unknown as number[])[flat] = (data as unknown as number[])[source] as number;
    for (let axis = rank - 1; axis >= 0; axis -= 1) {
      index[axis] = (index[axis] as number) + 1;
      if ((index[axis] as number) < (shape[axis] as number)) break;
      index[axis] = 0;
    }
  }
  return result;
}

/** Encode a tensor as .npy (version 1.0, or 2.0 when the header would not fit), data offset aligned to 64 bytes. */
export function encodeNpy(tensor: Tensor): Uint8Array {
  const descr = dtypeToDescr[tensor.dtype];
  if (descr === undefined) {
    throw new EdgeforgeError("UNSUPPORTED_FEATURE", `cannot write ${tensor.dtype} tensors as .npy`, {
      hint: "numeric dtypes up to 64 bits are supported",
    });
  }
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(", ")})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const encoded = new TextEncoder().encode(dict);
  let major = 1;
  let prefix = 10;
  if (encoded.length + 1 + prefix > 0xffff) {
    major = 2;
    prefix = 12;
  }
  const total = Math.ceil((prefix + encoded.length + 1) / 64) * 64;
  const headerLength = total - prefix;
  const payload = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  const out = new Uint8Array(total + payload.length);
  out.set(magic, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerLength, true);
  else view.setUint32(8, headerLength, true);
  out.set(encoded, prefix);
  out.fill(0x20, prefix + encoded.length, total - 1);
  out[total - 1] = 0x0a;
  out.set(payload, total);
  return out;
}

export async function readNpy(path: string, signal?: AbortSignal): Promise<Tensor> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path, { signal });
  } catch (error) {
    throw fileError(error, path, "read");
  }
  return parseNpy(bytes, path);
}

export async function writeNpy(path: string, tensor: Tensor, signal?: AbortSignal): Promise<void> {
  await writeFileAtomic(path, encodeNpy(tensor), signal);
}
