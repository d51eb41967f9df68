import { clearField, create, isFieldSet, toBinary } from "@bufbuild/protobuf";
import { createHash, type Hash } from "node:crypto";
import { basename, resolve } from "node:path";
import {
  AttributeProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  StringStringEntryProtoSchema,
  TensorProtoSchema,
  TensorProto_DataLocation,
  type AttributeProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from "onnx-buf";
import { open, rm, type FileHandle } from "node:fs/promises";
import { openAtomicWriter, type AtomicStreamWriter } from "../../core/atomic-write.js";
import { hashFileSha256InWorker } from "../../core/hash-worker.js";
import { EdgeforgeError, fileError } from "../../core/errors.js";
import { walkTensors } from "./graph-walk.js";
import { maxOnnxProtoBytes } from "./read-onnx.js";
import { rawDataByteLength, setStreamedRawData, streamedRawData, type StreamedBytes } from "./streamed-raw-data.js";
import { varintBytes } from "./protobuf-wire.js";

export interface WriteOnnxOptions {
  /** "auto" (default): external data only when embedded tensors exceed `externalThresholdBytes`. */
  externalData?: "auto" | "always" | "never";
  /** Total tensor bytes above which "auto" moves initializers out (default 1.8 GB, under protobuf's 2 GiB). */
  externalThresholdBytes?: number;
  /** Initializers smaller than this stay embedded when external data is used (default 1024, as ONNX does). */
  minExternalTensorBytes?: number;
  signal?: AbortSignal;
  /** A scratch file (a pass's work folder, removed after use): written without the fsyncs that make outputs durable. */
  scratch?: boolean;
  /**
   * Hash the written model file on the hashing worker while it is synced and renamed, instead of
   * while writing it: for callers that already started the worker (a pass hashing its input there).
   */
  hashOnWorker?: boolean;
  /**
   * A check of the finished model file (by its temp path, external data already in place), run
   * while the file is synced: when it throws, nothing is renamed into place and the write fails
   * with its error.
   */
  beforeRename?: (tempPath: string) => Promise<void>;
}

export interface WrittenOnnxModel {
  path: string;
  /** The model file and, when used, its external data file. */
  files: string[];
  modelBytes: number;
  /** sha256 of the model file, computed while writing it. */
  sha256: string;
  externalDataPath?: string;
  externalDataBytes: number;
  externalTensorCount: number;
}

export const defaultExternalThresholdBytes = 1_800_000_000;
export const defaultMinExternalTensorBytes = 1024;
/** Offsets of tensors of at least 1 MiB are aligned to 64 KiB so runtimes can memory-map them; smaller ones to 64 bytes. */
const largeTensorBytes = 1 << 20;
const largeAlignmentBytes = 1 << 16;
const smallAlignmentBytes = 64;

interface Placement {
  tensor: TensorProto;
  offsetBytes: number;
}

function tooLarge(sizeBytes: number): EdgeforgeError {
  return new EdgeforgeError("LIMIT_EXCEEDED", `the encoded model would be ${sizeBytes} bytes; a protobuf cannot exceed 2 GiB`, {
    hint: 'write with externalData "auto" or "always" so weights go to a .data file',
    details: { sizeBytes },
  });
}

/** Encode a model to protobuf bytes (unknown fields kept). */
export function encodeOnnxModel(model: ModelProto): Uint8Array {
  const bytes = toBinary(ModelProtoSchema, model);
  if (bytes.byteLength > maxOnnxProtoBytes) throw tooLarge(bytes.byteLength);
  return bytes;
}

/** Tensor bytes at least this long are written from the tensor's own memory, not copied through the encoder. */
const streamedRawBytes = 1 << 12;

/** Tag and length of a length-delimited field. */
function fieldHeader(fieldNumber: number, lengthBytes: number): Uint8Array {
  return Uint8Array.from([...varintBytes(fieldNumber * 8 + 2), ...varintBytes(lengthBytes)]);
}

/** Where a field numbered `fieldNumber` goes among an encoded message's top-level fields (the encoder writes them in number order). */
function insertionOffset(encoded: Uint8Array, fieldNumber: number): number {
  let position = 0;
  while (position < encoded.length) {
    const start = position;
    const readVarint = (): number => {
      let value = 0;
      let scale = 1;
      for (;;) {
        const byte = encoded[position++]!;
        value += (byte & 0x7f) * scale;
        scale *= 128;
        if ((byte & 0x80) === 0) return value;
      }
    };
    const tag = readVarint();
    if (Math.floor(tag / 8) > fieldNumber) return start;
    const wireType = tag % 8;
    const skipBytes = wireType === 0 ? (readVarint(), 0) : wireType === 1 ? 8 : wireType === 5 ? 4 : readVarint();
    position += skipBytes;
  }
  return encoded.length;
}

/** A piece of an encoded model: bytes in memory, or a tensor's raw_data streamed from its file. */
export type EncodedPiece = Uint8Array | StreamedBytes;

export function isStreamedPiece(piece: EncodedPiece): piece is StreamedBytes {
  return !(piece instanceof Uint8Array);
}

function totalBytes(pieces: readonly EncodedPiece[]): number {
  return pieces.reduce((sum, piece) => sum + piece.byteLength, 0);
}

/** `encoded` with length-delimited fields (each occurrence's `bodies` pieces) put in their places among the top-level fields. */
function withFields(encoded: Uint8Array, fields: readonly { fieldNumber: number; bodies: readonly (readonly EncodedPiece[])[] }[]): EncodedPiece[] {
  const pieces: EncodedPiece[] = [];
  let from = 0;
  for (const { fieldNumber, bodies } of [...fields].sort((a, b) => a.fieldNumber - b.fieldNumber)) {
    const at = insertionOffset(encoded, fieldNumber);
    pieces.push(encoded.subarray(from, at), ...bodies.flatMap((body) => [fieldHeader(fieldNumber, totalBytes(body)), ...body]));
    from = at;
  }
  pieces.push(encoded.subarray(from));
  return pieces;
}

function withField(encoded: Uint8Array, fieldNumber: number, bodies: readonly (readonly EncodedPiece[])[]): EncodedPiece[] {
  return withFields(encoded, [{ fieldNumber, bodies }]);
}

/** Encode `message` with `clear` emptied (restored afterwards, the caller's message is left as it was). */
function encodeWithout<T>(encode: () => Uint8Array, clear: () => T, restore: (saved: T) => void): Uint8Array {
  const saved = clear();
  try {
    return encode();
  } finally {
    restore(saved);
  }
}

function encodeTensorPieces(tensor: TensorProto): EncodedPiece[] {
  const streamed = streamedRawData(tensor);
  if (streamed) {
    const rest = encodeWithout(() => toBinary(TensorProtoSchema, tensor), () => clearField(tensor, TensorProtoSchema.field.rawData), () => setStreamedRawData(tensor, streamed));
    return withField(rest, TensorProtoSchema.field.rawData.number, [[streamed]]);
  }
  const raw = tensor.rawData;
  if (raw.byteLength < streamedRawBytes) return [toBinary(TensorProtoSchema, tensor)];
  const rest = encodeWithout(() => toBinary(TensorProtoSchema, tensor), () => clearField(tensor, TensorProtoSchema.field.rawData), () => (tensor.rawData = raw));
  return withField(rest, TensorProtoSchema.field.rawData.number, [[raw]]);
}

function holdsLargeTensor(attribute: AttributeProto): boolean {
  return attribute.t !== undefined && rawDataByteLength(attribute.t) >= streamedRawBytes;
}

function encodeAttributePieces(attribute: AttributeProto): EncodedPiece[] {
  const tensor = attribute.t;
  if (!tensor || !holdsLargeTensor(attribute)) return [toBinary(AttributeProtoSchema, attribute)];
  const rest = encodeWithout(() => toBinary(AttributeProtoSchema, attribute), () => (attribute.t = undefined), () => (attribute.t = tensor));
  return withField(rest, AttributeProtoSchema.field.t.number, [encodeTensorPieces(tensor)]);
}

/** A node's pieces: a Constant-style attribute tensor's large raw_data is a piece of its own, as an initializer's is. */
function encodeNodePieces(node: NodeProto): EncodedPiece[] {
  if (!node.attribute.some(holdsLargeTensor)) return [toBinary(NodeProtoSchema, node)];
  const attributes = node.attribute;
  const rest = encodeWithout(() => toBinary(NodeProtoSchema, node), () => (node.attribute = []), () => (node.attribute = attributes));
  return withField(rest, NodeProtoSchema.field.attribute.number, attributes.map(encodeAttributePieces));
}

/** Runs of small in-memory pieces joined into one, so that writing does not take a turn per node. */
function coalesce(pieces: readonly EncodedPiece[]): EncodedPiece[] {
  const out: EncodedPiece[] = [];
  let run: Uint8Array[] = [];
  const flush = () => {
    if (run.length === 1) out.push(run[0]!);
    else if (run.length > 1) out.push(Buffer.concat(run));
    run = [];
  };
  for (const piece of pieces) {
    if (!isStreamedPiece(piece) && piece.byteLength < streamedRawBytes) run.push(piece);
    else {
      flush();
      out.push(piece);
    }
  }
  flush();
  return out;
}

/**
 * The model's protobuf encoding as pieces whose concatenation is exactly `encodeOnnxModel`'s bytes:
 * the main graph's large initializer and node attribute (Constant) tensor bytes are views of the
 * tensors' own memory (or their streamed raw data), so writing a model copies its weights once (into
 * the file) instead of through the encoder's buffers, and never reads streamed weights into memory.
 */
export function encodeOnnxModelPieces(model: ModelProto): EncodedPiece[] {
  const graph = model.graph;
  if (!graph) return [encodeOnnxModel(model)];
  const { initializer: initializers, node: nodes } = graph;
  // Nodes are encoded one by one only when one of them holds a large tensor (Paddle and older exporters' Constant weights).
  const nodePieces = nodes.some((node) => node.attribute.some(holdsLargeTensor));
  const modelRest = encodeWithout(() => toBinary(ModelProtoSchema, model), () => (model.graph = undefined), () => (model.graph = graph));
  const graphRest = encodeWithout(
    () => toBinary(GraphProtoSchema, graph),
    () => {
      graph.initializer = [];
      if (nodePieces) graph.node = [];
    },
    () => {
      graph.initializer = initializers;
      graph.node = nodes;
    },
  );
  const graphPieces = withFields(graphRest, [
    { fieldNumber: GraphProtoSchema.field.initializer.number, bodies: initializers.map(encodeTensorPieces) },
    ...(nodePieces ? [{ fieldNumber: GraphProtoSchema.field.node.number, bodies: nodes.map(encodeNodePieces) }] : []),
  ]);
  const pieces = coalesce(withField(modelRest, ModelProtoSchema.field.graph.number, [graphPieces]));
  const sizeBytes = totalBytes(pieces);
  if (sizeBytes > maxOnnxProtoBytes) throw tooLarge(sizeBytes);
  return pieces;
}

function chooseExternalTensors(model: ModelProto, options: WriteOnnxOptions): TensorProto[] {
  const mode = options.externalData ?? "auto";
  const threshold = options.externalThresholdBytes ?? defaultExternalThresholdBytes;
  const minBytes = options.minExternalTensorBytes ?? defaultMinExternalTensorBytes;
  if (!model.graph) return [];
  let totalBytes = 0;
  const candidates: TensorProto[] = [];
  for (const { tensor, kind, node } of walkTensors(model.graph)) {
    if (tensor.dataLocation === TensorProto_DataLocation.EXTERNAL) {
      throw new EdgeforgeError("UNSUPPORTED_FEATURE", `tensor "${tensor.name}" still references external data that was not loaded`, {
        hint: "read the model with loadExternalData: true before writing it",
        details: { tensor: tensor.name, node: node?.name },
      });
    }
    const byteLength = rawDataByteLength(tensor);
    totalBytes += byteLength;
    if (kind === "initializer" && byteLength >= minBytes) candidates.push(tensor);
  }
  if (mode === "never") return [];
  if (mode === "auto" && totalBytes <= threshold) return [];
  return candidates;
}

/**
 * Write a piece (hashing it when asked), streaming it chunk by chunk when it is not in memory. A
 * streamed piece is read and written synchronously (page-cache reads and writes of a few hundred
 * KiB, where thread-pool round trips doubled the time); the event loop gets a turn between pieces.
 */
async function writePiece(writer: AtomicStreamWriter, piece: EncodedPiece, hash: Hash | undefined, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  if (!isStreamedPiece(piece)) {
    hash?.update(piece);
    await writer.write(piece);
    return;
  }
  piece.streamSync((chunk) => {
    hash?.update(chunk);
    writer.writeSync(chunk);
  }, signal ? { signal } : {});
  await new Promise<void>((resolve) => setImmediate(resolve));
}

async function writeExternalData(writer: AtomicStreamWriter, tensors: TensorProto[], signal?: AbortSignal): Promise<Placement[]> {
  const placements: Placement[] = [];
  for (const tensor of tensors) {
    signal?.throwIfAborted();
    const alignment = rawDataByteLength(tensor) >= largeTensorBytes ? largeAlignmentBytes : smallAlignmentBytes;
    const padding = (alignment - (writer.bytesWritten() % alignment)) % alignment;
    if (padding > 0) await writer.write(new Uint8Array(padding));
    placements.push({ tensor, offsetBytes: writer.bytesWritten() });
    await writePiece(writer, streamedRawData(tensor) ?? tensor.rawData, undefined, signal);
  }
  return placements;
}

/** Encode with the placed tensors pointing at the data file, restoring them afterwards: the caller's model is left as it was. */
function encodeWithExternalRefs(model: ModelProto, placements: Placement[], location: string): Uint8Array {
  const locationField = TensorProtoSchema.field.dataLocation;
  const saved = placements.map(({ tensor }) => ({
    tensor,
    streamed: streamedRawData(tensor),
    rawData: streamedRawData(tensor) ? new Uint8Array(0) : tensor.rawData,
    externalData: tensor.externalData,
    dataLocation: isFieldSet(tensor, locationField) ? tensor.dataLocation : undefined,
  }));
  try {
    for (const { tensor, offsetBytes } of placements) {
      const entry = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
      tensor.externalData = [
        entry("location", location),
        entry("offset", String(offsetBytes)),
        entry("length", String(rawDataByteLength(tensor))),
      ];
      clearField(tensor, TensorProtoSchema.field.rawData);
      tensor.dataLocation = TensorProto_DataLocation.EXTERNAL;
    }
    return encodeOnnxModel(model);
  } finally {
    for (const { tensor, streamed, rawData, externalData, dataLocation } of saved) {
      if (streamed) setStreamedRawData(tensor, streamed);
      else tensor.rawData = rawData;
      tensor.externalData = externalData;
      if (dataLocation === undefined) clearField(tensor, locationField);
      else tensor.dataLocation = dataLocation;
    }
  }
}

/**
 * The temp file's sha256, computed on the hashing worker through a descriptor opened now (so the
 * rename at commit does not matter); close `reader` once `digest` settles.
 */
async function hashWrittenFile(writer: AtomicStreamWriter, path: string, signal?: AbortSignal): Promise<{ reader: FileHandle; digest: Promise<string> }> {
  await writer.flush();
  const reader = await open(writer.tempPath, "r");
  const digest = hashFileSha256InWorker({ fd: reader.fd, path }, signal);
  digest.catch(() => undefined);
  return { reader, digest };
}

/**
 * Write a model atomically. Tensors moved to external data go to `<outPath>.data` (offsets
 * aligned), written atomically too and renamed into place just before the model, so the model
 * never names a missing data file. External tensors must have been loaded into memory.
 */
export async function writeOnnxModel(model: ModelProto, outPath: string, options: WriteOnnxOptions = {}): Promise<WrittenOnnxModel> {
  const path = resolve(outPath);
  const external = chooseExternalTensors(model, options);
  const durability = { durable: options.scratch !== true };
  const modelWriter = await openAtomicWriter(path, durability);
  let dataWriter: AtomicStreamWriter | undefined;
  let dataCommitted = false;
  try {
    let pieces: EncodedPiece[];
    let externalDataBytes = 0;
    const dataPath = `${path}.data`;
    if (external.length > 0) {
      dataWriter = await openAtomicWriter(dataPath, durability);
      const placements = await writeExternalData(dataWriter, external, options.signal);
      externalDataBytes = dataWriter.bytesWritten();
      pieces = [encodeWithExternalRefs(model, placements, basename(dataPath))];
    } else {
      pieces = encodeOnnxModelPieces(model);
    }
    const hash = options.hashOnWorker ? undefined : createHash("sha256");
    for (const piece of pieces) await writePiece(modelWriter, piece, hash, options.signal);
    const sha256 = hash ? undefined : await hashWrittenFile(modelWriter, path, options.signal);
    try {
      if (dataWriter) {
        await dataWriter.commit();
        dataCommitted = true;
      }
      await modelWriter.commit(options.beforeRename);
    } finally {
      await sha256?.digest.catch(() => undefined);
      await sha256?.reader.close();
    }
    return {
      path,
      files: dataWriter ? [path, dataPath] : [path],
      modelBytes: modelWriter.bytesWritten(),
      sha256: hash ? hash.digest("hex") : await sha256!.digest,
      ...(dataWriter ? { externalDataPath: dataPath } : {}),
      externalDataBytes,
      externalTensorCount: external.length,
    };
  } catch (error) {
    await dataWriter?.abort();
    await modelWriter.abort();
    // A data file renamed into place for a model that was not is removed too.
    if (dataCommitted) await rm(`${path}.data`, { force: true });
    if (error instanceof Error && error.name === "AbortError") throw error;
    throw fileError(error, path, "write");
  }
}
