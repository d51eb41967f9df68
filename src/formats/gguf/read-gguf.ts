import { openByteSource, type ByteSource } from "../../core/byte-source.js";
import { EdgeforgeError } from "../../core/errors.js";
import { ByteCursor } from "./byte-cursor.js";
import { ggmlTypeById, type GgmlTypeName } from "./ggml-types.js";
import {
  ggufScalarBytes,
  ggufValueTypeById,
  type GgufArrayItems,
  type GgufArrayValue,
  type GgufMetadata,
  type GgufValue,
  type GgufValueType,
} from "./gguf-metadata.js";

export interface GgufTensorInfo {
  name: string;
  /** ne[0..n) as stored: ne[0] is the row (innermost) dimension. */
  dims: number[];
  type: GgmlTypeName;
  /** Offset from the start of the data section (a multiple of the alignment). */
  offset: number;
  elementCount: number;
  sizeBytes: number;
}

export interface GgufHeader {
  path: string;
  fileSizeBytes: number;
  version: 2 | 3;
  /** `general.alignment`, or 32 when absent. */
  alignment: number;
  metadata: GgufMetadata;
  tensors: GgufTensorInfo[];
  /** Bytes of the header proper (magic to the last tensor info), before alignment padding. */
  headerSizeBytes: number;
  /** File offset where tensor data starts. */
  dataOffset: number;
}

export interface ReadGgufOptions {
  signal?: AbortSignal;
}

const gguFMagic = 0x46554747;
const defaultAlignment = 32;
/** GGML_MAX_DIMS in ggml.h. */
const maxDims = 4;
/** gguf-py nests arrays; nothing real nests deeper than 2, so a deep chain is corruption, not data. */
const maxArrayDepth = 8;
/** Smallest possible encodings, used to bound declared counts by the bytes left in the file. */
const minKvBytes = 8 + 4 + 1;
const minTensorInfoBytes = 8 + 4 + 4 + 8;
const minArrayBytes = 4 + 8;

/** Read a GGUF file's header (metadata and tensor table) by byte ranges; tensor data is not read. */
export async function readGgufHeader(path: string, options: ReadGgufOptions = {}): Promise<GgufHeader> {
  await using source = await openByteSource(path);
  // `return await`: the source must stay open until the whole header has been read.
  return await readGgufHeaderFromSource(source, options);
}

/** The same over any ByteSource (in-memory sources let tests fuzz without temp files). */
export async function readGgufHeaderFromSource(source: ByteSource, options: ReadGgufOptions = {}): Promise<GgufHeader> {
  const reader = new HeaderReader(source, options.signal);
  return reader.read();
}

class HeaderReader {
  private readonly cursor: ByteCursor;
  private readonly path: string;
  private readonly fileSizeBytes: number;

  constructor(source: ByteSource, signal?: AbortSignal) {
    this.cursor = new ByteCursor(source, signal);
    this.path = source.path;
    this.fileSizeBytes = source.sizeBytes;
  }

  async read(): Promise<GgufHeader> {
    if (this.fileSizeBytes === 0) {
      throw new EdgeforgeError("EMPTY_FILE", `${this.path} is empty (0 bytes)`, {
        hint: "the download or export did not complete; produce the file again",
        details: { path: this.path },
      });
    }
    if (this.fileSizeBytes < 4 || (await this.cursor.u32()) !== gguFMagic) {
      throw this.corrupt("does not start with the GGUF magic", "pass a .gguf model file (llama.cpp format)");
    }
    const version = await this.readVersion();
    const tensorCount = await this.count("tensor count");
    const kvCount = await this.count("metadata key count");
    if (tensorCount * minTensorInfoBytes + kvCount * minKvBytes > this.cursor.remainingBytes) {
      throw this.limit(`declares ${tensorCount} tensors and ${kvCount} metadata keys, more than its ${this.fileSizeBytes} bytes can hold`, {
        tensorCount,
        kvCount,
      });
    }
    const metadata: GgufMetadata = new Map();
    for (let index = 0; index < kvCount; index += 1) {
      const key = await this.string(() => "metadata key");
      if (metadata.has(key)) throw this.corrupt(`repeats the metadata key ${quote(key)}`);
      const type = await this.valueType(() => `metadata ${quote(key)}`);
      metadata.set(key, await this.value(type, key, 0));
    }
    const alignment = this.alignmentOf(metadata);
    const tensors: GgufTensorInfo[] = [];
    const names = new Set<string>();
    for (let index = 0; index < tensorCount; index += 1) {
      const tensor = await this.tensorInfo(alignment);
      if (names.has(tensor.name)) throw this.corrupt(`repeats the tensor name ${quote(tensor.name)}`);
      names.add(tensor.name);
      tensors.push(tensor);
    }
    const headerSizeBytes = this.cursor.offset;
    const dataOffset = tensorCount > 0 ? alignUp(headerSizeBytes, alignment) : headerSizeBytes;
    this.checkExtents(tensors, dataOffset);
    return { path: this.path, fileSizeBytes: this.fileSizeBytes, version, alignment, metadata, tensors, headerSizeBytes, dataOffset };
  }

  private async readVersion(): Promise<2 | 3> {
    const version = await this.cursor.u32();
    if (version === 2 || version === 3) return version;
    if (version === 1) {
      throw new EdgeforgeError("UNSUPPORTED_FEATURE", `${this.path} is GGUF version 1, which llama.cpp no longer reads`, {
        hint: "convert the model again with a current llama.cpp (convert_hf_to_gguf.py)",
        details: { path: this.path, version },
      });
    }
    if ((version & 0xffff) === 0 && version !== 0) {
      throw new EdgeforgeError("UNSUPPORTED_FEATURE", `${this.path} looks like a big-endian GGUF (version field ${version})`, {
        hint: "use a little-endian GGUF; gguf-py's convert scripts write little-endian by default",
        details: { path: this.path, version },
      });
    }
    throw this.corrupt(`has GGUF version ${version}; versions 2 and 3 are supported`, "the file is corrupt or from an unknown GGUF revision", { version });
  }

  /** A signed 64-bit count, bounded by the file size before anything is allocated for it. */
  private async count(what: string): Promise<number> {
    const value = await this.cursor.i64();
    if (value < 0n) throw this.corrupt(`has a negative ${what} (${value})`);
    if (value > BigInt(this.fileSizeBytes)) throw this.limit(`declares a ${what} of ${value}, more than its ${this.fileSizeBytes} bytes can hold`, { [what]: value.toString() });
    return Number(value);
  }

  /** A declared byte/element count: absurd (beyond the whole file) is LIMIT_EXCEEDED, beyond the rest of the file is TRUNCATED_FILE. */
  /** `what` is a function so hot loops build no message unless one is thrown. */
  private bounded(value: bigint, unitBytes: number, what: () => string): number {
    const needed = value * BigInt(unitBytes);
    if (needed > BigInt(this.fileSizeBytes)) {
      throw this.limit(`declares ${what()} of ${value}, more than its ${this.fileSizeBytes} bytes can hold`, { what: what(), declared: value.toString(), offset: this.cursor.offset });
    }
    if (needed > BigInt(this.cursor.remainingBytes)) {
      throw new EdgeforgeError("TRUNCATED_FILE", `${this.path}: ${what()} of ${value} at offset ${this.cursor.offset} runs past the end of the file`, {
        hint: "the file is truncated; download or export it again",
        details: { path: this.path, what: what(), declared: value.toString(), offset: this.cursor.offset, sizeBytes: this.fileSizeBytes },
      });
    }
    return Number(value);
  }

  private async string(what: () => string): Promise<string> {
    const length = this.bounded(await this.cursor.u64(), 1, () => `a ${what()} length`);
    return this.cursor.utf8(length);
  }

  private async valueType(what: () => string): Promise<GgufValueType> {
    const id = await this.cursor.u32();
    const type = ggufValueTypeById(id);
    if (!type) throw this.corrupt(`has an unknown value type ${id} for ${what()}`);
    return type;
  }

  private async value(type: GgufValueType, key: string, depth: number): Promise<GgufValue> {
    const c = this.cursor;
    switch (type) {
      case "uint8": return { type, value: await c.u8() };
      case "int8": return { type, value: await c.i8() };
      case "uint16": return { type, value: await c.u16() };
      case "int16": return { type, value: await c.i16() };
      case "uint32": return { type, value: await c.u32() };
      case "int32": return { type, value: await c.i32() };
      case "float32": return { type, value: await c.f32() };
      case "float64": return { type, value: await c.f64() };
      case "uint64": return { type, value: await c.u64() };
      case "int64": return { type, value: await c.i64() };
      case "bool": {
        const byte = await c.u8();
        if (byte > 1) throw this.corrupt(`has a bool value ${byte} for ${quote(key)}`);
        return { type, value: byte === 1 };
      }
      case "string": return { type, value: await this.string(() => `${quote(key)} string`) };
      case "array": return this.array(key, depth);
    }
  }

  private async array(key: string, depth: number): Promise<GgufArrayValue> {
    if (depth >= maxArrayDepth) throw this.limit(`nests arrays deeper than ${maxArrayDepth} levels in ${quote(key)}`, { key });
    const itemType = await this.valueType(() => `items of ${quote(key)}`);
    const declared = await this.cursor.u64();
    const unitBytes = itemType === "string" ? 8 : itemType === "array" ? minArrayBytes : ggufScalarBytes[itemType];
    const length = this.bounded(declared, unitBytes, () => `an array length for ${quote(key)}`);
    return { type: "array", itemType, items: await this.arrayItems(itemType, length, key, depth) };
  }

  private async arrayItems(itemType: GgufValueType, length: number, key: string, depth: number): Promise<GgufArrayItems> {
    const c = this.cursor;
    switch (itemType) {
      case "uint8": return c.bytes(length);
      case "int8": {
        const bytes = await c.bytes(length);
        return new Int8Array(bytes.buffer, bytes.byteOffset, length);
      }
      case "bool": {
        const bytes = await c.bytes(length);
        if (bytes.some((byte) => byte > 1)) throw this.corrupt(`has a bool array item that is not 0 or 1 in ${quote(key)}`);
        return Array.from(bytes, (byte) => byte === 1);
      }
      case "uint16": return this.numeric(new Uint16Array(length), 2, (v, o) => v.getUint16(o, true));
      case "int16": return this.numeric(new Int16Array(length), 2, (v, o) => v.getInt16(o, true));
      case "uint32": return this.numeric(new Uint32Array(length), 4, (v, o) => v.getUint32(o, true));
      case "int32": return this.numeric(new Int32Array(length), 4, (v, o) => v.getInt32(o, true));
      case "float32": return this.numeric(new Float32Array(length), 4, (v, o) => v.getFloat32(o, true));
      case "float64": return this.numeric(new Float64Array(length), 8, (v, o) => v.getFloat64(o, true));
      case "uint64": return this.bigNumeric(new BigUint64Array(length), (v, o) => v.getBigUint64(o, true));
      case "int64": return this.bigNumeric(new BigInt64Array(length), (v, o) => v.getBigInt64(o, true));
      case "string":
        return c.strings(length, (declared) => this.bounded(declared, 1, () => `a ${quote(key)} item length`));
      case "array": {
        const items = new Array<GgufArrayValue>(length);
        for (let index = 0; index < length; index += 1) items[index] = await this.array(key, depth + 1);
        return items;
      }
    }
  }

  private async numeric<T extends { [index: number]: number }>(target: T, bytes: number, get: (view: DataView, offset: number) => number): Promise<T> {
    await this.cursor.forEach((target as unknown as ArrayLike<number>).length, bytes, (view, offset, index) => {
      target[index] = get(view, offset);
    });
    return target;
  }

  private async bigNumeric<T extends BigUint64Array | BigInt64Array>(target: T, get: (view: DataView, offset: number) => bigint): Promise<T> {
    await this.cursor.forEach(target.length, 8, (view, offset, index) => {
      target[index] = get(view, offset);
    });
    return target;
  }

  private alignmentOf(metadata: GgufMetadata): number {
    const entry = metadata.get("general.alignment");
    if (!entry) return defaultAlignment;
    if (entry.type !== "uint32") throw this.corrupt(`stores general.alignment as ${entry.type}; it must be uint32`);
    const alignment = entry.value;
    if (alignment === 0 || (alignment & (alignment - 1)) !== 0) throw this.corrupt(`has general.alignment ${alignment}, not a power of two`);
    return alignment;
  }

  private async tensorInfo(alignment: number): Promise<GgufTensorInfo> {
    const name = await this.string(() => "tensor name");
    const dimCount = await this.cursor.u32();
    if (dimCount > maxDims) throw this.corrupt(`gives tensor ${quote(name)} ${dimCount} dimensions; GGUF allows at most ${maxDims}`, undefined, { tensor: name, dimCount });
    const dims: number[] = [];
    let elements = 1n;
    for (let axis = 0; axis < dimCount; axis += 1) {
      const size = await this.cursor.i64();
      if (size < 0n) throw this.corrupt(`gives tensor ${quote(name)} a negative dimension (${size})`, undefined, { tensor: name });
      elements *= size;
      if (elements > BigInt(Number.MAX_SAFE_INTEGER)) throw this.limit(`gives tensor ${quote(name)} more than 2^53 elements`, { tensor: name });
      dims.push(Number(size));
    }
    const typeId = await this.cursor.i32();
    const typeInfo = ggmlTypeById(typeId);
    if (!typeInfo) {
      throw this.corrupt(`gives tensor ${quote(name)} ggml type ${typeId}, which is not a known ggml type`, "the file is corrupt or needs a newer edgeforge", { tensor: name, typeId });
    }
    const rowLength = dims[0] ?? 1;
    if (rowLength % typeInfo.blockSize !== 0) {
      throw this.corrupt(`gives tensor ${quote(name)} rows of ${rowLength} elements, not a multiple of the ${typeInfo.name} block size ${typeInfo.blockSize}`, undefined, { tensor: name });
    }
    const elementCount = Number(elements);
    const sizeBytes = (elementCount / typeInfo.blockSize) * typeInfo.blockBytes;
    if (!Number.isSafeInteger(sizeBytes)) throw this.limit(`gives tensor ${quote(name)} more than 2^53 bytes of data`, { tensor: name });
    const offset = await this.cursor.u64();
    // Offsets and sizes within 2^53 are checked against the file in checkExtents, where a short file reads as truncated.
    if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw this.limit(`gives tensor ${quote(name)} a data offset of ${offset}, beyond any file`, { tensor: name, offset: offset.toString() });
    if (offset % BigInt(alignment) !== 0n) throw this.corrupt(`gives tensor ${quote(name)} a data offset of ${offset}, not a multiple of the alignment ${alignment}`, undefined, { tensor: name });
    return { name, dims, type: typeInfo.name as GgmlTypeName, offset: Number(offset), elementCount, sizeBytes };
  }

  private checkExtents(tensors: GgufTensorInfo[], dataOffset: number): void {
    const byOffset = [...tensors].sort((a, b) => a.offset - b.offset);
    let previous: GgufTensorInfo | undefined;
    for (const tensor of byOffset) {
      const end = dataOffset + tensor.offset + tensor.sizeBytes;
      if (end > this.fileSizeBytes) {
        throw new EdgeforgeError("TRUNCATED_FILE", `${this.path}: tensor ${quote(tensor.name)} ends at byte ${end} but the file has ${this.fileSizeBytes}`, {
          hint: "the file is truncated (or its tensor table is corrupt); download or export it again",
          details: { path: this.path, tensor: tensor.name, endOffset: end, sizeBytes: this.fileSizeBytes },
        });
      }
      if (previous && previous.offset + previous.sizeBytes > tensor.offset) {
        throw this.corrupt(`stores tensors ${quote(previous.name)} and ${quote(tensor.name)} in overlapping bytes`);
      }
      previous = tensor;
    }
  }

  private corrupt(what: string, hint = "the file is corrupt; download or export it again", details: Record<string, unknown> = {}): EdgeforgeError {
    return new EdgeforgeError("CORRUPT_MODEL", `${this.path} ${what}`, { hint, details: { path: this.path, offset: this.cursor.offset, ...details } });
  }

  private limit(what: string, details: Record<string, unknown>): EdgeforgeError {
    return new EdgeforgeError("LIMIT_EXCEEDED", `${this.path} ${what}`, {
      hint: "the header is corrupt (a count or size is impossible for this file); download or export it again",
      details: { path: this.path, sizeBytes: this.fileSizeBytes, ...details },
    });
  }
}

/** A key or name for an error message: quoted, and cut short when a corrupt header makes it huge. */
function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

export function alignUp(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment;
}
