import { clearField, create, isFieldSet, toBinary } from "@bufbuild/protobuf";
import { basename, resolve } from "node:path";
import {
  ModelProtoSchema,
  StringStringEntryProtoSchema,
  TensorProtoSchema,
  TensorProto_DataLocation,
  type ModelProto,
  type TensorProto,
} from "onnx-buf";
import { openAtomicWriter, type AtomicStreamWriter } from "../../core/atomic-write.js";
import { EdgeforgeError, fileError } from "../../core/errors.js";
import { walkTensors } from "./graph-walk.js";
import { maxOnnxProtoBytes } from "./read-onnx.js";

export interface WriteOnnxOptions {
  /** "auto" (default): external data only when embedded tensors exceed `externalThresholdBytes`. */
  externalData?: "auto" | "always" | "never";
  /** Total tensor bytes above which "auto" moves initializers out (default 1.8 GB, under protobuf's 2 GiB). */
  externalThresholdBytes?: number;
  /** Initializers smaller than this stay embedded when external data is used (default 1024, as ONNX does). */
  minExternalTensorBytes?: number;
  signal?: AbortSignal;
}

export interface WrittenOnnxModel {
  path: string;
  /** The model file and, when used, its external data file. */
  files: string[];
  modelBytes: number;
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
    totalBytes += tensor.rawData.byteLength;
    if (kind === "initializer" && tensor.rawData.byteLength >= minBytes) candidates.push(tensor);
  }
  if (mode === "never") return [];
  if (mode === "auto" && totalBytes <= threshold) return [];
  return candidates;
}

async function writeExternalData(writer: AtomicStreamWriter, tensors: TensorProto[], signal?: AbortSignal): Promise<Placement[]> {
  const placements: Placement[] = [];
  for (const tensor of tensors) {
    signal?.throwIfAborted();
    const alignment = tensor.rawData.byteLength >= largeTensorBytes ? largeAlignmentBytes : smallAlignmentBytes;
    const padding = (alignment - (writer.bytesWritten() % alignment)) % alignment;
    if (padding > 0) await writer.write(new Uint8Array(padding));
    placements.push({ tensor, offsetBytes: writer.bytesWritten() });
    await writer.write(tensor.rawData);
  }
  return placements;
}

/** Encode with the placed tensors pointing at the data file, restoring them afterwards: the caller's model is left as it was. */
function encodeWithExternalRefs(model: ModelProto, placements: Placement[], location: string): Uint8Array {
  const locationField = TensorProtoSchema.field.dataLocation;
  const saved = placements.map(({ tensor }) => ({
    tensor,
    rawData: tensor.rawData,
    externalData: tensor.externalData,
    dataLocation: isFieldSet(tensor, locationField) ? tensor.dataLocation : undefined,
  }));
  try {
    for (const { tensor, offsetBytes } of placements) {
      const entry = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
      tensor.externalData = [
        entry("location", location),
        entry("offset", String(offsetBytes)),
        entry("length", String(tensor.rawData.byteLength)),
      ];
      clearField(tensor, TensorProtoSchema.field.rawData);
      tensor.dataLocation = TensorProto_DataLocation.EXTERNAL;
    }
    return encodeOnnxModel(model);
  } finally {
    for (const { tensor, rawData, externalData, dataLocation } of saved) {
      tensor.rawData = rawData;
      tensor.externalData = externalData;
      if (dataLocation === undefined) clearField(tensor, locationField);
      else tensor.dataLocation = dataLocation;
    }
  }
}

/**
 * Write a model atomically. Tensors moved to external data go to `<outPath>.data` (offsets
 * aligned), written atomically too and renamed into place just before the model, so the model
 * never names a missing data file. External tensors must have been loaded into memory.
 */
export async function writeOnnxModel(model: ModelProto, outPath: string, options: WriteOnnxOptions = {}): Promise<WrittenOnnxModel> {
  const path = resolve(outPath);
  const external = chooseExternalTensors(model, options);
  const modelWriter = await openAtomicWriter(path);
  let dataWriter: AtomicStreamWriter | undefined;
  try {
    let modelBytes: Uint8Array;
    let externalDataBytes = 0;
    const dataPath = `${path}.data`;
    if (external.length > 0) {
      dataWriter = await openAtomicWriter(dataPath);
      const placements = await writeExternalData(dataWriter, external, options.signal);
      externalDataBytes = dataWriter.bytesWritten();
      modelBytes = encodeWithExternalRefs(model, placements, basename(dataPath));
    } else {
      modelBytes = encodeOnnxModel(model);
    }
    options.signal?.throwIfAborted();
    await modelWriter.write(modelBytes);
    if (dataWriter) await dataWriter.commit();
    await modelWriter.commit();
    return {
      path,
      files: dataWriter ? [path, dataPath] : [path],
      modelBytes: modelBytes.byteLength,
      ...(dataWriter ? { externalDataPath: dataPath } : {}),
      externalDataBytes,
      externalTensorCount: external.length,
    };
  } catch (error) {
    await dataWriter?.abort();
    await modelWriter.abort();
    if (error instanceof Error && error.name === "AbortError") throw error;
    throw fileError(error, path, "write");
  }
}
