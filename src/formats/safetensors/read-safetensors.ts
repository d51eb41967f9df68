import { openByteSource, type ByteSource } from "../../core/byte-source.js";
import { EdgeforgeError } from "../../core/errors.js";

/** Element widths in bits, from the safetensors crate's `Dtype::bitsize` (0.8, sub-byte types included). */
export const safetensorsDtypeBits = Object.freeze({
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  F8_E4M3FNUZ: 8,
  F8_E5M2FNUZ: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
} as const);

export type SafetensorsDtype = keyof typeof safetensorsDtypeBits;

export interface SafetensorsTensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** [begin, end) relative to the data section, as stored. */
  dataOffsets: [number, number];
  elementCount: number;
  sizeBytes: number;
}

export interface SafetensorsHeader {
  path: string;
  fileSizeBytes: number;
  /** Bytes of the JSON header (the u64 prefix excluded). */
  headerSizeBytes: number;
  /** File offset of the data section (8 + headerSizeBytes). */
  dataOffset: number;
  /** Tensors ordered by data offset. */
  tensors: SafetensorsTensorInfo[];
  /** The optional `__metadata__` string map. */
  metadata: Record<string, string>;
}

export interface ReadSafetensorsOptions {
  signal?: AbortSignal;
}

/** The safetensors crate's own ceiling; a bigger header is corruption, not a model. */
export const maxSafetensorsHeaderBytes = 100_000_000;

export async function readSafetensorsHeader(path: string, options: ReadSafetensorsOptions = {}): Promise<SafetensorsHeader> {
  await using source = await openByteSource(path);
  return await readSafetensorsHeaderFromSource(source, options);
}

/** Read and validate the header: size bounded before allocation, dtypes known, shapes and offsets consistent. */
export async function readSafetensorsHeaderFromSource(source: ByteSource, options: ReadSafetensorsOptions = {}): Promise<SafetensorsHeader> {
  const { path, sizeBytes: fileSizeBytes } = source;
  options.signal?.throwIfAborted();
  if (fileSizeBytes === 0) {
    throw new EdgeforgeError("EMPTY_FILE", `${path} is empty (0 bytes)`, { hint: "the download or export did not complete; produce the file again", details: { path } });
  }
  const prefix = await source.read(0, Math.min(8, fileSizeBytes));
  if (prefix.length < 8) throw truncated(path, "is shorter than the 8-byte header length", fileSizeBytes);
  const declared = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(maxSafetensorsHeaderBytes) || declared > BigInt(fileSizeBytes - 8)) {
    throw new EdgeforgeError("LIMIT_EXCEEDED", `${path} declares a ${declared}-byte header, but the file has ${fileSizeBytes} bytes (and the limit is 100 MB)`, {
      hint: "this is not a safetensors file, or it is truncated or corrupt",
      details: { path, declaredHeaderBytes: declared.toString(), fileSizeBytes, maxHeaderBytes: maxSafetensorsHeaderBytes },
    });
  }
  const headerSizeBytes = Number(declared);
  const json = await source.read(8, headerSizeBytes);
  options.signal?.throwIfAborted();
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(json));
  } catch (error) {
    throw corrupt(path, "has a header that is not UTF-8 JSON", { cause: error });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw corrupt(path, "has a header that is not a JSON object");
  const dataOffset = 8 + headerSizeBytes;
  const dataBytes = fileSizeBytes - dataOffset;
  let metadata: Record<string, string> = {};
  const tensors: SafetensorsTensorInfo[] = [];
  for (const [name, entry] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === "__metadata__") metadata = readMetadata(path, entry);
    else tensors.push(readTensorInfo(path, name, entry, dataBytes));
  }
  tensors.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  for (let index = 1; index < tensors.length; index += 1) {
    const previous = tensors[index - 1] as SafetensorsTensorInfo;
    const current = tensors[index] as SafetensorsTensorInfo;
    if (current.dataOffsets[0] < previous.dataOffsets[1]) throw corrupt(path, `stores tensors "${previous.name}" and "${current.name}" in overlapping bytes`);
  }
  return { path, fileSizeBytes, headerSizeBytes, dataOffset, tensors, metadata };
}

function readMetadata(path: string, entry: unknown): Record<string, string> {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry) || Object.values(entry).some((value) => typeof value !== "string")) {
    throw corrupt(path, "has a __metadata__ entry that is not a map of strings");
  }
  return Object.assign(Object.create(null) as Record<string, string>, entry);
}

function readTensorInfo(path: string, name: string, entry: unknown, dataBytes: number): SafetensorsTensorInfo {
  const info = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
  if (typeof info !== "object" || info === null) throw corrupt(path, `describes tensor "${name}" with something other than an object`);
  const { dtype, shape, data_offsets: offsets } = info;
  if (typeof dtype !== "string" || !Object.hasOwn(safetensorsDtypeBits, dtype)) {
    throw new EdgeforgeError("UNSUPPORTED_FEATURE", `${path}: tensor "${name}" has dtype ${JSON.stringify(dtype)}, which is not a safetensors dtype edgeforge knows`, {
      hint: `known dtypes: ${Object.keys(safetensorsDtypeBits).join(", ")}`,
      details: { path, tensor: name, dtype },
    });
  }
  const isCount = (value: unknown): value is number => typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
  if (!Array.isArray(shape) || !shape.every(isCount)) throw corrupt(path, `gives tensor "${name}" a shape that is not a list of non-negative integers`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || (offsets[0] as number) > (offsets[1] as number)) {
    throw corrupt(path, `gives tensor "${name}" data_offsets that are not [begin, end] with begin ≤ end`);
  }
  const bits = safetensorsDtypeBits[dtype as SafetensorsDtype];
  let elementCount = 1;
  for (const size of shape as number[]) {
    elementCount *= size;
    if (!Number.isSafeInteger(elementCount) || elementCount * bits > 8 * Number.MAX_SAFE_INTEGER) {
      throw new EdgeforgeError("LIMIT_EXCEEDED", `${path}: tensor "${name}" has more elements than any file can hold`, { hint: "the header is corrupt", details: { path, tensor: name } });
    }
  }
  const sizeBytes = (elementCount * bits) / 8;
  const [begin, end] = offsets as [number, number];
  if (!Number.isInteger(sizeBytes) || end - begin !== sizeBytes) {
    throw corrupt(path, `gives tensor "${name}" ${end - begin} bytes, but ${dtype} [${(shape as number[]).join(", ")}] needs ${sizeBytes}`);
  }
  if (end > dataBytes) throw truncated(path, `stores tensor "${name}" up to data byte ${end}, past the end of the data section (${dataBytes} bytes)`, dataBytes);
  return { name, dtype: dtype as SafetensorsDtype, shape: shape as number[], dataOffsets: [begin, end], elementCount, sizeBytes };
}

/** One tensor's stored bytes, by a ranged read. */
export async function readSafetensorsTensorData(path: string, header: SafetensorsHeader, tensorName: string, options: ReadSafetensorsOptions = {}): Promise<Uint8Array> {
  const tensor = header.tensors.find((candidate) => candidate.name === tensorName);
  if (!tensor) {
    throw new EdgeforgeError("INVALID_OPTION", `${path} has no tensor named "${tensorName}"`, { hint: "list the tensors with `edgeforge inspect --json`", details: { path, tensorName } });
  }
  options.signal?.throwIfAborted();
  await using source = await openByteSource(path);
  return await source.read(header.dataOffset + tensor.dataOffsets[0], tensor.sizeBytes);
}

function corrupt(path: string, what: string, options: { cause?: unknown } = {}): EdgeforgeError {
  return new EdgeforgeError("CORRUPT_MODEL", `${path} ${what}`, { hint: "the safetensors header is corrupt; download or export the model again", details: { path }, ...options });
}

function truncated(path: string, what: string, sizeBytes: number): EdgeforgeError {
  return new EdgeforgeError("TRUNCATED_FILE", `${path} ${what}`, { hint: "the file is truncated; download or export it again", details: { path, sizeBytes } });
}
