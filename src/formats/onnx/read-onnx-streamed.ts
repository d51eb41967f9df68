import { clearField } from "@bufbuild/protobuf";
import { createHash, type Hash } from "node:crypto";
import { readSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { AttributeProtoSchema, GraphProtoSchema, ModelProtoSchema, NodeProtoSchema, TensorProtoSchema, type GraphProto, type TensorProto } from "onnx-buf";
import { fileError } from "../../core/errors.js";
import { collectExternalTensors } from "./external-data.js";
import { decodeOnnxModel, readOnnxModel, type OnnxModelFile, type ReadOnnxOptions } from "./read-onnx.js";
import { fileRange, setStreamedRawData, streamChunkBytes, withChunkBuffer } from "./streamed-raw-data.js";
import { MalformedProtobuf, varintAt, varintBytes } from "./protobuf-wire.js";

export interface ReadOnnxStreamedOptions extends Pick<ReadOnnxOptions, "signal" | "sha256"> {
  /** raw_data of main-graph initializers at least this long stays on disk (default 64 KiB). */
  minStreamedBytes?: number;
}

export interface StreamedOnnxModelFile extends OnnxModelFile {
  /** Initializers whose bytes stay in their file until used or written (external ones included). */
  streamedTensorCount: number;
}

const windowBytes = streamChunkBytes;

/**
 * Reads a file front to back through one window (a reused chunk buffer: fresh pages are slow on
 * VMs), hashing every byte once as it passes. Reads are synchronous: a window from the page cache
 * takes tens of microseconds, about what a round trip through libuv's thread pool costs on top.
 */
class ForwardReader {
  private start = 0;
  private length = 0;
  private hashedTo = 0;

  constructor(private readonly handle: FileHandle, readonly sizeBytes: number, private readonly window: Uint8Array<ArrayBuffer>, private readonly hash: Hash | undefined, private readonly signal?: AbortSignal) {}

  private async load(position: number): Promise<void> {
    this.signal?.throwIfAborted();
    if (this.hash && position > this.hashedTo) await this.pass(this.hashedTo, position - this.hashedTo);
    const want = Math.min(windowBytes, this.sizeBytes - position);
    let filled = 0;
    while (filled < want) {
      const bytesRead = readSync(this.handle.fd, this.window, filled, want - filled, position + filled);
      if (bytesRead === 0) throw new MalformedProtobuf();
      filled += bytesRead;
    }
    this.start = position;
    this.length = filled;
    const end = position + filled;
    if (this.hash && end > this.hashedTo) this.hash.update(this.window.subarray(this.hashedTo - position, filled));
    this.hashedTo = Math.max(this.hashedTo, end);
  }

  /** A view of `count` (≤ window) bytes at `position`, fewer at the end of the file; valid until the next read. */
  async view(position: number, count: number): Promise<Uint8Array> {
    if (position < this.start || position + count > this.start + this.length) await this.load(position);
    return this.window.subarray(position - this.start, Math.min(this.length, position - this.start + count));
  }

  /** A copy of `count` bytes at `position`. */
  async copy(position: number, count: number): Promise<Uint8Array> {
    const out = new Uint8Array(count);
    for (let done = 0; done < count; ) {
      const part = await this.view(position + done, Math.min(windowBytes, count - done));
      if (part.length === 0) throw new MalformedProtobuf();
      out.set(part, done);
      done += part.length;
    }
    return out;
  }

  /** Go past `count` bytes at `position`: read (and hashed) when hashing, else not read at all. */
  async pass(position: number, count: number): Promise<void> {
    if (!this.hash) return;
    for (let done = 0; done < count; ) {
      const part = await this.view(position + done, Math.min(windowBytes, count - done));
      if (part.length === 0) throw new MalformedProtobuf();
      done += part.length;
    }
  }
}

type Kind = "model" | "graph" | "node" | "attribute" | "tensor";
/** The sub-messages walked into: main-graph initializers and Constant-style node attribute tensors. */
const children: Record<Kind, Map<number, Kind>> = {
  model: new Map([[ModelProtoSchema.field.graph.number, "graph"]]),
  graph: new Map([
    [GraphProtoSchema.field.initializer.number, "tensor"],
    [GraphProtoSchema.field.node.number, "node"],
  ]),
  node: new Map([[NodeProtoSchema.field.attribute.number, "attribute"]]),
  attribute: new Map([[AttributeProtoSchema.field.t.number, "tensor"]]),
  tensor: new Map(),
};
const rawDataField = TensorProtoSchema.field.rawData.number;

interface Skeleton {
  /** raw_data left out of the skeleton, by tensor key ("i3": initializer 3, "n7.0": node 7's first attribute). */
  ranges: Map<string, { offsetBytes: number; byteLength: number }>;
  minStreamedBytes: number;
}

/** The message's fields between start and end, as pieces, with large tensor raw_data left out (ranges recorded under `key`). */
async function skeletonOf(reader: ForwardReader, kind: Kind, start: number, end: number, key: string, skeleton: Skeleton): Promise<Uint8Array[]> {
  const pieces: Uint8Array[] = [];
  const counts = new Map<number, number>();
  let position = start;
  while (position < end) {
    const head = await reader.view(position, Math.min(20, end - position));
    const tag = varintAt(head, 0);
    const field = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    let fieldEnd: number;
    if (wireType === 0) fieldEnd = position + tag.size + varintAt(head, tag.size).size;
    else if (wireType === 1 || wireType === 5) fieldEnd = position + tag.size + (wireType === 1 ? 8 : 4);
    else if (wireType === 2) {
      const length = varintAt(head, tag.size);
      const bodyStart = position + tag.size + length.size;
      fieldEnd = bodyStart + length.value;
      if (fieldEnd > end) throw new MalformedProtobuf();
      const child = children[kind].get(field);
      if (child) {
        const index = counts.get(field) ?? 0;
        counts.set(field, index + 1);
        const childKey = kind === "graph" ? `${child === "tensor" ? "i" : "n"}${index}` : kind === "node" ? `${key}.${index}` : key;
        const body = await skeletonOf(reader, child, bodyStart, fieldEnd, childKey, skeleton);
        const bodyBytes = body.reduce((sum, piece) => sum + piece.byteLength, 0);
        pieces.push(Uint8Array.from([...varintBytes(tag.value), ...varintBytes(bodyBytes)]), ...body);
        position = fieldEnd;
        continue;
      }
      if (kind === "tensor" && field === rawDataField) {
        // The last raw_data field wins when a message repeats it, as in the decoder.
        skeleton.ranges.delete(key);
        if (length.value >= skeleton.minStreamedBytes) {
          skeleton.ranges.set(key, { offsetBytes: bodyStart, byteLength: length.value });
          await reader.pass(position, fieldEnd - position);
          position = fieldEnd;
          continue;
        }
      }
    } else throw new MalformedProtobuf();
    if (fieldEnd > end) throw new MalformedProtobuf();
    pieces.push(await reader.copy(position, fieldEnd - position));
    position = fieldEnd;
  }
  if (position !== end) throw new MalformedProtobuf();
  return pieces;
}

/** The decoded tensors the skeleton's keys name (attribute tensors of main-graph nodes, initializers). */
function tensorsByKey(graph: GraphProto): Map<string, TensorProto> {
  const tensors = new Map<string, TensorProto>();
  graph.initializer.forEach((tensor, index) => tensors.set(`i${index}`, tensor));
  graph.node.forEach((node, index) =>
    node.attribute.forEach((attribute, attributeIndex) => {
      if (attribute.t) tensors.set(`n${index}.${attributeIndex}`, attribute.t);
    }),
  );
  return tensors;
}

function concat(pieces: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.byteLength, 0));
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.byteLength;
  }
  return out;
}

/**
 * Read an .onnx file without holding its weights: one front-to-back pass through a reused window
 * decodes everything but the raw_data of large main-graph initializers and node attribute tensors
 * (Constant weights), which stays in the file
 * (and external tensors in theirs) as streamed raw data, read when a pass quantizes or writes it.
 * The file's sha256 is computed in the same pass when asked. The model is the same as
 * readOnnxModel's; bytes that do not parse are handed to readOnnxModel so that its error says why.
 */
export async function readOnnxModelStreamed(path: string, options: ReadOnnxStreamedOptions = {}): Promise<StreamedOnnxModelFile> {
  const absolute = resolve(path);
  let handle: FileHandle;
  try {
    handle = await open(absolute, "r");
  } catch (error) {
    throw fileError(error, path, "read");
  }
  const skeleton: Skeleton = { ranges: new Map(), minStreamedBytes: options.minStreamedBytes ?? 1 << 16 };
  const hash = options.sha256 ? createHash("sha256") : undefined;
  let bytes: Uint8Array<ArrayBuffer> | undefined;
  let sizeBytes = 0;
  try {
    sizeBytes = (await handle.stat()).size;
    if (sizeBytes > 0 && sizeBytes <= 2 ** 31 - 1) {
      bytes = await withChunkBuffer(windowBytes, async (window) =>
        concat(await skeletonOf(new ForwardReader(handle, sizeBytes, window.subarray(0, windowBytes), hash, options.signal), "model", 0, sizeBytes, "", skeleton)),
      );
    }
  } catch (error) {
    if (!(error instanceof MalformedProtobuf)) throw options.signal?.aborted ? error : fileError(error, path, "read");
  } finally {
    await handle.close();
  }
  if (!bytes) return { ...(await readOnnxModel(path, options)), streamedTensorCount: 0 };
  const model = decodeOnnxModel(bytes, path);
  const tensors = tensorsByKey(model.graph!);
  let streamedTensorCount = 0;
  for (const [key, range] of skeleton.ranges) {
    const tensor = tensors.get(key);
    if (!tensor) continue;
    setStreamedRawData(tensor, fileRange(absolute, range.offsetBytes, range.byteLength));
    streamedTensorCount++;
  }
  const folder = dirname(absolute);
  const externalTensors = await collectExternalTensors(model.graph!, folder);
  for (const ref of externalTensors) {
    clearField(ref.tensor, TensorProtoSchema.field.dataLocation);
    ref.tensor.externalData = [];
    setStreamedRawData(ref.tensor, fileRange(ref.filePath, ref.offsetBytes, ref.lengthBytes));
    streamedTensorCount++;
  }
  return {
    model,
    path: absolute,
    folder,
    fileSizeBytes: sizeBytes,
    externalTensors,
    externalDataLoaded: true,
    streamedTensorCount,
    ...(hash ? { sha256: hash.digest("hex") } : {}),
  };
}
