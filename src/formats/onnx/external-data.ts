import { clearField } from "@bufbuild/protobuf";
import { realpath, stat } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep, win32 } from "node:path";
import { TensorProtoSchema, TensorProto_DataLocation, type GraphProto, type TensorProto } from "onnx-buf";
import { openByteSource, type ByteSource } from "../../core/byte-source.js";
import { EdgeforgeError, fileError } from "../../core/errors.js";
import { walkTensors } from "./graph-walk.js";
import { tensorByteLength } from "./tensor-data.js";

/** A tensor whose bytes live in a file beside the model, after every check has passed. */
export interface ExternalTensorRef {
  tensor: TensorProto;
  /** The location as written in the model. */
  location: string;
  /** The resolved real path, inside the model's folder. */
  filePath: string;
  offsetBytes: number;
  lengthBytes: number;
}

function unsafe(location: string, reason: string, folder: string): EdgeforgeError {
  return new EdgeforgeError("UNSAFE_PATH", `external data location "${location}" ${reason}`, {
    hint: "external data must be a relative path to a file inside the model's folder; the model may be malicious",
    details: { location, folder },
  });
}

/**
 * Resolve an external-data location against the model's folder, refusing anything that could
 * read outside it: absolute paths, `..` segments and symlinks whose target lies elsewhere (the
 * checks ONNX added after CVE-2024-27318 / CVE-2024-27319).
 */
export async function resolveExternalLocation(folder: string, location: string): Promise<string> {
  if (location === "") throw unsafe(location, "is empty", folder);
  if (location.includes("\0")) throw unsafe(location, "contains a NUL byte", folder);
  if (isAbsolute(location) || win32.isAbsolute(location) || /^[a-zA-Z]:/.test(location)) {
    throw unsafe(location, "is an absolute path", folder);
  }
  if (location.split(/[\\/]/).includes("..")) throw unsafe(location, "climbs out with '..'", folder);
  let realFolder: string;
  let realFile: string;
  try {
    realFolder = await realpath(folder);
    realFile = await realpath(resolve(folder, location));
  } catch (error) {
    throw fileError(error, resolve(folder, location), "read");
  }
  const inside = relative(realFolder, realFile);
  if (inside === "" || inside === ".." || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    throw unsafe(location, `resolves to ${realFile}, outside the model's folder (symlink)`, folder);
  }
  return realFile;
}

function parseByteCount(tensor: TensorProto, key: string, value: string): number {
  if (!/^\d+$/.test(value)) {
    throw new EdgeforgeError("CORRUPT_MODEL", `tensor "${tensor.name}": external data ${key} "${value}" is not a byte count`, {
      hint: "the model file is damaged; export it again",
      details: { tensor: tensor.name, key, value },
    });
  }
  const count = Number(value);
  if (!Number.isSafeInteger(count)) {
    throw new EdgeforgeError("LIMIT_EXCEEDED", `tensor "${tensor.name}": external data ${key} ${value} is beyond any file size`, {
      hint: "the model file is damaged or malicious",
      details: { tensor: tensor.name, key, value },
    });
  }
  return count;
}

async function describeExternalTensor(tensor: TensorProto, folder: string, fileSizes: Map<string, number>): Promise<ExternalTensorRef> {
  const entries = new Map(tensor.externalData.map((entry) => [entry.key, entry.value]));
  const location = entries.get("location");
  if (location === undefined) {
    throw new EdgeforgeError("CORRUPT_MODEL", `tensor "${tensor.name}" is marked external but names no location`, {
      hint: "the model file is damaged; export it again",
      details: { tensor: tensor.name },
    });
  }
  const filePath = await resolveExternalLocation(folder, location);
  let sizeBytes = fileSizes.get(filePath);
  if (sizeBytes === undefined) {
    try {
      const info = await stat(filePath);
      if (!info.isFile()) throw unsafe(location, "is not a regular file", folder);
      sizeBytes = info.size;
    } catch (error) {
      throw fileError(error, filePath, "read");
    }
    fileSizes.set(filePath, sizeBytes);
  }
  const expectedBytes = tensorByteLength(tensor);
  const offsetBytes = parseByteCount(tensor, "offset", entries.get("offset") ?? "0");
  const declared = entries.get("length");
  const lengthBytes = declared === undefined ? expectedBytes : parseByteCount(tensor, "length", declared);
  if (lengthBytes !== expectedBytes) {
    throw new EdgeforgeError("CORRUPT_MODEL", `tensor "${tensor.name}": external length ${lengthBytes} but its dims need ${expectedBytes} bytes`, {
      hint: "the model and its external data file do not belong together, or the model is damaged",
      details: { tensor: tensor.name, lengthBytes, expectedBytes },
    });
  }
  if (offsetBytes + lengthBytes > sizeBytes) {
    throw new EdgeforgeError("TRUNCATED_FILE", `tensor "${tensor.name}": needs bytes ${offsetBytes}..${offsetBytes + lengthBytes} of ${location}, which holds ${sizeBytes}`, {
      hint: "the external data file is truncated or belongs to another model; copy it again",
      details: { tensor: tensor.name, location, offsetBytes, lengthBytes, sizeBytes },
    });
  }
  return { tensor, location, filePath, offsetBytes, lengthBytes };
}

/** Find and check every external tensor of the graph (subgraphs and attribute tensors included); reads no tensor bytes. */
export async function collectExternalTensors(graph: GraphProto, folder: string): Promise<ExternalTensorRef[]> {
  const refs: ExternalTensorRef[] = [];
  const fileSizes = new Map<string, number>();
  for (const { tensor } of walkTensors(graph)) {
    if (tensor.dataLocation === TensorProto_DataLocation.EXTERNAL) {
      refs.push(await describeExternalTensor(tensor, folder, fileSizes));
    }
  }
  return refs;
}

/**
 * Read checked external tensors into raw_data (each into its own aligned buffer, so typed views
 * need no copy) and mark them as embedded, as onnx.load(load_external_data=True) does.
 */
export async function loadExternalTensors(refs: readonly ExternalTensorRef[], signal?: AbortSignal): Promise<void> {
  const sources = new Map<string, ByteSource>();
  try {
    for (const ref of refs) {
      signal?.throwIfAborted();
      let source = sources.get(ref.filePath);
      if (!source) {
        source = await openByteSource(ref.filePath);
        sources.set(ref.filePath, source);
      }
      const bytes = await source.read(ref.offsetBytes, ref.lengthBytes);
      // ByteSource allocates a fresh ArrayBuffer per read (offset 0, so typed views need no copy).
      ref.tensor.rawData = bytes as Uint8Array<ArrayBuffer>;
      clearField(ref.tensor, TensorProtoSchema.field.dataLocation);
      ref.tensor.externalData = [];
    }
  } finally {
    for (const source of sources.values()) await source.close();
  }
}
