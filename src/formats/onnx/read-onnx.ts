import { ScalarType, fromBinary } from "@bufbuild/protobuf";
import { readFile, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { ModelProtoSchema, Version, type ModelProto } from "onnx-buf";
import { EdgeforgeError, fileError } from "../../core/errors.js";
import { hashSha256 } from "../../core/hashing.js";
import { collectExternalTensors, loadExternalTensors, type ExternalTensorRef } from "./external-data.js";
import { walkNodes } from "./graph-walk.js";

/** Protobuf messages cannot exceed 2 GiB; bigger models must keep weights in external data. */
export const maxOnnxProtoBytes = 2 ** 31 - 1;

/** IR versions accepted: 1 up to a few beyond the newest this build knows, so near-future files still open. */
export const maxAcceptedIrVersion = Version.IR_VERSION + 4;

export interface ReadOnnxOptions {
  signal?: AbortSignal;
  /** Read external tensors into raw_data (default true). When false, they are still located and checked, but not read. */
  loadExternalData?: boolean;
  /** Also hash the .onnx file's bytes while they are in memory (saves reading the file again to hash it). */
  sha256?: boolean;
}

export interface OnnxModelFile {
  model: ModelProto;
  /** Absolute path of the .onnx file. */
  path: string;
  /** The folder external data locations are resolved against. */
  folder: string;
  fileSizeBytes: number;
  /** Every tensor that was declared external, checked (path inside the folder, bytes present). */
  externalTensors: ExternalTensorRef[];
  /** True when external tensors were moved into raw_data (the model no longer references the files). */
  externalDataLoaded: boolean;
  /** sha256 of the .onnx file, when asked for. */
  sha256?: string;
}

/** ModelProto field number → protobuf wire type (0 varint, 2 length-delimited), from the schema. */
const modelWireTypes = new Map(
  ModelProtoSchema.fields.map((field) => [field.number, field.fieldKind === "scalar" && field.scalar !== ScalarType.STRING && field.scalar !== ScalarType.BYTES ? 0 : 2]),
);

/** Read a varint at `pos`; undefined when the bytes end first. */
function readVarint(bytes: Uint8Array, pos: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = pos; i < bytes.length && i < pos + 10; i++) {
    const byte = bytes[i] as number;
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) return { value, next: i + 1 };
  }
  return undefined;
}

/**
 * After a decode failure, tell a truncated model from garbage: true when the top-level fields are
 * all ModelProto fields with the right wire types, ir_version is plausible, and the last field runs
 * past the end of the bytes.
 */
function looksTruncated(bytes: Uint8Array): boolean {
  let pos = 0;
  let sawIrVersion = false;
  while (pos < bytes.length) {
    const tag = readVarint(bytes, pos);
    if (!tag) return sawIrVersion;
    const fieldNumber = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    if (modelWireTypes.get(fieldNumber) !== wireType) return false;
    const payload = readVarint(bytes, tag.next);
    if (!payload) return sawIrVersion;
    if (wireType === 0) {
      if (fieldNumber === 1) {
        if (payload.value < 1 || payload.value > maxAcceptedIrVersion) return false;
        sawIrVersion = true;
      }
      pos = payload.next;
    } else {
      if (payload.next + payload.value > bytes.length) return sawIrVersion;
      pos = payload.next + payload.value;
    }
  }
  return false;
}

function corruptModel(source: string, reason: string, cause?: unknown): EdgeforgeError {
  return new EdgeforgeError("CORRUPT_MODEL", `${source} is not a valid ONNX model: ${reason}`, {
    hint: "check that the file is an ONNX model and was copied completely; export it again if it is damaged",
    details: { path: source, reason },
    cause,
  });
}

/** Bytes that decoded as protobuf are still refused unless they look like a model: random data can decode. */
function checkModelShape(model: ModelProto, source: string): void {
  const ir = Number(model.irVersion);
  if (ir < 1 || ir > maxAcceptedIrVersion) {
    throw corruptModel(source, `ir_version ${model.irVersion} is outside 1..${maxAcceptedIrVersion}`);
  }
  if (!model.graph) throw corruptModel(source, "it has no graph");
  if (ir >= 3 && model.opsetImport.length === 0) throw corruptModel(source, "it imports no operator set");
  for (const opset of model.opsetImport) {
    if (opset.version < 1n || opset.version > 10_000n) {
      throw corruptModel(source, `operator set "${opset.domain}" has version ${opset.version}`);
    }
  }
  for (const { node, path } of walkNodes(model.graph)) {
    if (node.opType === "") throw corruptModel(source, `node ${path} has no op_type`);
  }
}

/** Decode ONNX bytes already in memory (no external data handling). Tensor raw_data stays a view over `bytes`. */
export function decodeOnnxModel(bytes: Uint8Array, source = "<bytes>"): ModelProto {
  if (bytes.byteLength === 0) {
    throw new EdgeforgeError("EMPTY_FILE", `${source} is empty (0 bytes)`, {
      hint: "the download or export did not complete; produce the file again",
      details: { path: source },
    });
  }
  if (bytes.byteLength > maxOnnxProtoBytes) {
    throw new EdgeforgeError("LIMIT_EXCEEDED", `${source} is ${bytes.byteLength} bytes; an ONNX protobuf cannot exceed 2 GiB`, {
      hint: "models this large must keep weights in external data files",
      details: { path: source, sizeBytes: bytes.byteLength },
    });
  }
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes);
  } catch (error) {
    if (looksTruncated(bytes)) {
      throw new EdgeforgeError("TRUNCATED_FILE", `${source} ends before the model's declared contents (${bytes.byteLength} bytes)`, {
        hint: "the file was cut short; copy or download it again",
        details: { path: source, sizeBytes: bytes.byteLength },
        cause: error,
      });
    }
    throw corruptModel(source, error instanceof Error ? error.message : String(error), error);
  }
  checkModelShape(model, source);
  return model;
}

/**
 * Read an .onnx file: decode it, then locate and check every external data reference (paths must
 * stay inside the model's folder; declared ranges must fit the files) before reading any of it.
 */
export async function readOnnxModel(path: string, options: ReadOnnxOptions = {}): Promise<OnnxModelFile> {
  const absolute = resolve(path);
  try {
    const info = await stat(absolute);
    if (info.isFile() && info.size > maxOnnxProtoBytes) {
      throw new EdgeforgeError("LIMIT_EXCEEDED", `${path} is ${info.size} bytes; an ONNX protobuf cannot exceed 2 GiB`, {
        hint: "models this large must keep weights in external data files",
        details: { path, sizeBytes: info.size },
      });
    }
  } catch (error) {
    throw fileError(error, path, "read");
  }
  let buffer: Buffer;
  try {
    buffer = await readFile(absolute, { signal: options.signal });
  } catch (error) {
    options.signal?.throwIfAborted();
    throw fileError(error, path, "read");
  }
  // A plain Uint8Array view: Buffer's subarray semantics differ (its slice() does not copy).
  const model = decodeOnnxModel(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength), path);
  const folder = dirname(absolute);
  const graph = model.graph;
  const externalTensors = graph ? await collectExternalTensors(graph, folder) : [];
  const loadExternalData = options.loadExternalData ?? true;
  if (loadExternalData && externalTensors.length > 0) await loadExternalTensors(externalTensors, options.signal);
  return {
    model,
    path: absolute,
    folder,
    fileSizeBytes: buffer.byteLength,
    externalTensors,
    externalDataLoaded: loadExternalData,
    ...(options.sha256 ? { sha256: hashSha256(buffer) } : {}),
  };
}
