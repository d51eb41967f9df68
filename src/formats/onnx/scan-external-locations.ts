import { open, type FileHandle } from "node:fs/promises";
import {
  AttributeProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  SparseTensorProtoSchema,
  StringStringEntryProtoSchema,
  TensorProtoSchema,
  TensorProto_DataLocation,
} from "onnx-buf";
import { MalformedProtobuf, varintAt } from "./protobuf-wire.js";

type Kind = "model" | "graph" | "node" | "attribute" | "sparse" | "tensor";

/** The sub-messages that can hold a tensor, per message kind; every other field is skipped by length. */
const children: Record<Kind, Map<number, Kind>> = {
  model: new Map([[ModelProtoSchema.field.graph.number, "graph"]]),
  graph: new Map([
    [GraphProtoSchema.field.node.number, "node"],
    [GraphProtoSchema.field.initializer.number, "tensor"],
    [GraphProtoSchema.field.sparseInitializer.number, "sparse"],
  ]),
  node: new Map([[NodeProtoSchema.field.attribute.number, "attribute"]]),
  attribute: new Map([
    [AttributeProtoSchema.field.t.number, "tensor"],
    [AttributeProtoSchema.field.tensors.number, "tensor"],
    [AttributeProtoSchema.field.g.number, "graph"],
    [AttributeProtoSchema.field.graphs.number, "graph"],
    [AttributeProtoSchema.field.sparseTensor.number, "sparse"],
    [AttributeProtoSchema.field.sparseTensors.number, "sparse"],
  ]),
  sparse: new Map([
    [SparseTensorProtoSchema.field.values.number, "tensor"],
    [SparseTensorProtoSchema.field.indices.number, "tensor"],
  ]),
  tensor: new Map(),
};

const windowBytes = 1 << 16;

/** Reads the file through one reused window: only the bytes around field headers are read. */
class WindowReader {
  private readonly window = new Uint8Array(windowBytes);
  private start = 0;
  private length = 0;

  constructor(private readonly handle: FileHandle) {}

  /** The window holding at least `count` bytes from `position` (fewer at the end of the file). */
  async at(position: number, count: number): Promise<{ bytes: Uint8Array; offset: number }> {
    if (position < this.start || position + count > this.start + this.length) {
      const { bytesRead } = await this.handle.read(this.window, 0, windowBytes, position);
      this.start = position;
      this.length = bytesRead;
    }
    return { bytes: this.window.subarray(0, this.length), offset: position - this.start };
  }
}

const decoder = new TextDecoder();

async function scanMessage(reader: WindowReader, kind: Kind, start: number, end: number, found: Set<string>): Promise<void> {
  let position = start;
  let location: string | undefined;
  let external = false;
  while (position < end) {
    const head = await reader.at(position, Math.min(20, end - position));
    const tag = varintAt(head.bytes, head.offset);
    const field = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    position += tag.size;
    if (wireType === 0) {
      const value = varintAt(head.bytes, head.offset + tag.size);
      if (kind === "tensor" && field === TensorProtoSchema.field.dataLocation.number) external = value.value === TensorProto_DataLocation.EXTERNAL;
      position += value.size;
    } else if (wireType === 1 || wireType === 5) {
      position += wireType === 1 ? 8 : 4;
    } else if (wireType === 2) {
      const length = varintAt(head.bytes, head.offset + tag.size);
      const bodyStart = position + length.size;
      const bodyEnd = bodyStart + length.value;
      if (bodyEnd > end) throw new MalformedProtobuf();
      const child = children[kind].get(field);
      if (child) await scanMessage(reader, child, bodyStart, bodyEnd, found);
      else if (kind === "tensor" && field === TensorProtoSchema.field.externalData.number) {
        const entry = await readEntry(reader, bodyStart, bodyEnd);
        if (entry.key === "location") location = entry.value;
      }
      position = bodyEnd;
    } else {
      throw new MalformedProtobuf();
    }
  }
  if (position !== end) throw new MalformedProtobuf();
  if (external && location !== undefined) found.add(location);
}

async function readEntry(reader: WindowReader, start: number, end: number): Promise<{ key?: string; value?: string }> {
  if (end - start > windowBytes) throw new MalformedProtobuf();
  const { bytes, offset } = await reader.at(start, end - start);
  const entry: { key?: string; value?: string } = {};
  let position = offset;
  const stop = offset + (end - start);
  while (position < stop) {
    const tag = varintAt(bytes, position);
    const length = varintAt(bytes, position + tag.size);
    const bodyStart = position + tag.size + length.size;
    if (tag.value % 8 !== 2 || bodyStart + length.value > stop) throw new MalformedProtobuf();
    const text = decoder.decode(bytes.subarray(bodyStart, bodyStart + length.value));
    const field = Math.floor(tag.value / 8);
    if (field === StringStringEntryProtoSchema.field.key.number) entry.key = text;
    else if (field === StringStringEntryProtoSchema.field.value.number) entry.value = text;
    position = bodyStart + length.value;
  }
  return entry;
}

/**
 * The external-data locations an .onnx file names, found by walking its protobuf field headers and
 * skipping every tensor's bytes: a few reads of a reused 64 KiB window instead of reading the whole
 * model. Undefined when the bytes do not parse as protobuf (the full reader then says why).
 */
export async function scanExternalLocations(path: string): Promise<string[] | undefined> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    if (size === 0) return undefined;
    const found = new Set<string>();
    await scanMessage(new WindowReader(handle), "model", 0, size, found);
    return [...found];
  } catch (error) {
    if (error instanceof MalformedProtobuf) return undefined;
    throw error;
  } finally {
    await handle.close();
  }
}
