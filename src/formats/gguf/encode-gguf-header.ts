import { EdgeforgeError } from "../../core/errors.js";
import { ggmlTypeCatalog, isGgmlTypeName, type GgmlTypeName } from "./ggml-types.js";
import { ggufValueTypeIds, type GgufArrayValue, type GgufValue, type GgufValueType } from "./gguf-metadata.js";

/** What the header needs to know about a tensor (its bytes are streamed separately). */
export interface GgufTensorLayout {
  name: string;
  dims: number[];
  type: GgmlTypeName;
}

export interface EncodedGgufHeader {
  bytes: Uint8Array;
  /** Bytes each tensor must supply, in input order. */
  tensorSizes: number[];
  /** Offsets relative to the data section, in input order. */
  tensorOffsets: number[];
}

const utf8 = new TextEncoder();

/** Growable little-endian byte buffer. `reserve` may replace the buffer, so it runs before the view is touched. */
class ByteSink {
  private buffer = new Uint8Array(1 << 16);
  private view = new DataView(this.buffer.buffer);
  length = 0;

  private reserve(extra: number): number {
    const needed = this.length + extra;
    if (needed > this.buffer.length) {
      const grown = new Uint8Array(Math.max(needed, this.buffer.length * 2));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
      this.view = new DataView(grown.buffer);
    }
    const at = this.length;
    this.length = needed;
    return at;
  }
  u8(value: number): void {
    const at = this.reserve(1);
    this.view.setUint8(at, value);
  }
  i8(value: number): void {
    const at = this.reserve(1);
    this.view.setInt8(at, value);
  }
  u16(value: number): void {
    const at = this.reserve(2);
    this.view.setUint16(at, value, true);
  }
  i16(value: number): void {
    const at = this.reserve(2);
    this.view.setInt16(at, value, true);
  }
  u32(value: number): void {
    const at = this.reserve(4);
    this.view.setUint32(at, value, true);
  }
  i32(value: number): void {
    const at = this.reserve(4);
    this.view.setInt32(at, value, true);
  }
  f32(value: number): void {
    const at = this.reserve(4);
    this.view.setFloat32(at, value, true);
  }
  f64(value: number): void {
    const at = this.reserve(8);
    this.view.setFloat64(at, value, true);
  }
  u64(value: bigint): void {
    const at = this.reserve(8);
    this.view.setBigUint64(at, value, true);
  }
  i64(value: bigint): void {
    const at = this.reserve(8);
    this.view.setBigInt64(at, value, true);
  }
  bytes(value: Uint8Array): void {
    const at = this.reserve(value.length);
    this.buffer.set(value, at);
  }
  string(value: string): void {
    const encoded = utf8.encode(value);
    this.u64(BigInt(encoded.length));
    this.bytes(encoded);
  }
  result(): Uint8Array { return this.buffer.slice(0, this.length); }
}

const integerRanges: Partial<Record<GgufValueType, readonly [number, number]>> = {
  uint8: [0, 0xff],
  int8: [-0x80, 0x7f],
  uint16: [0, 0xffff],
  int16: [-0x8000, 0x7fff],
  uint32: [0, 0xffffffff],
  int32: [-0x80000000, 0x7fffffff],
};

function invalid(message: string, details: Record<string, unknown> = {}): EdgeforgeError {
  return new EdgeforgeError("INVALID_OPTION", message, { hint: "fix the metadata or tensor list passed to writeGguf", details });
}

function writeScalar(sink: ByteSink, key: string, type: GgufValueType, value: unknown): void {
  const range = integerRanges[type];
  if (range && (typeof value !== "number" || !Number.isInteger(value) || value < range[0] || value > range[1])) {
    throw invalid(`metadata "${key}": ${String(value)} is not a valid ${type}`, { key, type });
  }
  switch (type) {
    case "uint8": return sink.u8(value as number);
    case "int8": return sink.i8(value as number);
    case "uint16": return sink.u16(value as number);
    case "int16": return sink.i16(value as number);
    case "uint32": return sink.u32(value as number);
    case "int32": return sink.i32(value as number);
    case "float32":
    case "float64":
      if (typeof value !== "number") throw invalid(`metadata "${key}": ${String(value)} is not a number`, { key, type });
      return type === "float32" ? sink.f32(value) : sink.f64(value);
    case "uint64":
    case "int64": {
      const ok = typeof value === "bigint" && (type === "uint64" ? value >= 0n && value < 1n << 64n : value >= -(1n << 63n) && value < 1n << 63n);
      if (!ok) throw invalid(`metadata "${key}": ${String(value)} is not a valid ${type} (pass a bigint)`, { key, type });
      return type === "uint64" ? sink.u64(value) : sink.i64(value);
    }
    case "bool":
      if (typeof value !== "boolean") throw invalid(`metadata "${key}": ${String(value)} is not a boolean`, { key, type });
      return sink.u8(value ? 1 : 0);
    case "string":
      if (typeof value !== "string") throw invalid(`metadata "${key}": ${String(value)} is not a string`, { key, type });
      return sink.string(value);
    case "array":
      return writeArray(sink, key, value as GgufArrayValue);
  }
}

function writeArray(sink: ByteSink, key: string, value: GgufArrayValue): void {
  if (typeof value !== "object" || value === null || value.type !== "array" || !(value.itemType in ggufValueTypeIds)) {
    throw invalid(`metadata "${key}": not a GGUF array value`, { key });
  }
  sink.u32(ggufValueTypeIds[value.itemType]);
  sink.u64(BigInt(value.items.length));
  if (value.itemType === "uint8" && value.items instanceof Uint8Array) return sink.bytes(value.items);
  for (const item of value.items as ArrayLike<unknown> & Iterable<unknown>) writeScalar(sink, key, value.itemType, item);
}

function writeValue(sink: ByteSink, key: string, value: GgufValue): void {
  if (!(value.type in ggufValueTypeIds)) throw invalid(`metadata "${key}": unknown value type ${String(value.type)}`, { key });
  sink.u32(ggufValueTypeIds[value.type]);
  writeScalar(sink, key, value.type, value.type === "array" ? value : value.value);
}

/** Validate a tensor's declared layout and return its byte size. */
function tensorSize(tensor: GgufTensorLayout): number {
  if (!isGgmlTypeName(tensor.type)) throw invalid(`tensor "${tensor.name}": unknown ggml type ${String(tensor.type)}`, { tensor: tensor.name });
  if (tensor.dims.length > 4 || tensor.dims.some((size) => !Number.isSafeInteger(size) || size < 0)) {
    throw invalid(`tensor "${tensor.name}": dims [${tensor.dims.join(", ")}] must be 0–4 non-negative integers`, { tensor: tensor.name });
  }
  const info = ggmlTypeCatalog[tensor.type];
  if ((tensor.dims[0] ?? 1) % info.blockSize !== 0) {
    throw invalid(`tensor "${tensor.name}": row length ${tensor.dims[0] ?? 1} is not a multiple of the ${tensor.type} block size ${info.blockSize}`, { tensor: tensor.name });
  }
  const elements = tensor.dims.reduce((product, size) => product * size, 1);
  if (!Number.isSafeInteger(elements)) throw invalid(`tensor "${tensor.name}": too many elements`, { tensor: tensor.name });
  return (elements / info.blockSize) * info.blockBytes;
}

/** Encode magic, version 3, counts, metadata and tensor infos; data offsets follow input order with `alignment` padding. */
export function encodeGgufHeader(metadata: Iterable<readonly [string, GgufValue]>, tensors: GgufTensorLayout[], alignment: number): EncodedGgufHeader {
  const entries = [...metadata];
  const sink = new ByteSink();
  sink.bytes(utf8.encode("GGUF"));
  sink.u32(3);
  sink.i64(BigInt(tensors.length));
  sink.i64(BigInt(entries.length));
  const keys = new Set<string>();
  for (const [key, value] of entries) {
    if (keys.has(key)) throw invalid(`metadata key "${key}" appears twice`, { key });
    keys.add(key);
    sink.string(key);
    writeValue(sink, key, value);
  }
  const names = new Set<string>();
  const tensorSizes: number[] = [];
  const tensorOffsets: number[] = [];
  let offset = 0;
  for (const tensor of tensors) {
    if (names.has(tensor.name)) throw invalid(`tensor name "${tensor.name}" appears twice`, { tensor: tensor.name });
    names.add(tensor.name);
    const size = tensorSize(tensor);
    sink.string(tensor.name);
    sink.u32(tensor.dims.length);
    for (const dim of tensor.dims) sink.i64(BigInt(dim));
    sink.i32(ggmlTypeCatalog[tensor.type].id);
    sink.u64(BigInt(offset));
    tensorSizes.push(size);
    tensorOffsets.push(offset);
    offset += Math.ceil(size / alignment) * alignment;
  }
  return { bytes: sink.result(), tensorSizes, tensorOffsets };
}
