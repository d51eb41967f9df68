import { openAtomicWriter } from "../../core/atomic-write.js";
import { EdgeforgeError } from "../../core/errors.js";
import { safetensorsDtypeBits, type SafetensorsDtype } from "./read-safetensors.js";

export interface SafetensorsTensorInput {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** The tensor's bytes (little-endian, row-major), produced when the writer reaches it. */
  data: Uint8Array | (() => Promise<Uint8Array>);
}

export interface WriteSafetensorsResult {
  path: string;
  sizeBytes: number;
  headerSizeBytes: number;
}

function tensorBytes(tensor: SafetensorsTensorInput): number {
  const elements = tensor.shape.reduce((product, size) => product * size, 1);
  const bits = elements * safetensorsDtypeBits[tensor.dtype];
  if (bits % 8 !== 0) {
    throw new EdgeforgeError("INVALID_OPTION", `tensor "${tensor.name}" (${tensor.dtype} [${tensor.shape.join(", ")}]) is not a whole number of bytes`, {
      hint: "sub-byte dtypes need an element count that fills whole bytes",
    });
  }
  return bits / 8;
}

/**
 * Write a safetensors file: u64 header length, JSON header (data offsets in the order given,
 * padded with spaces to 8 bytes as the safetensors crate does), then each tensor's bytes,
 * streamed one tensor at a time through a temp file renamed into place when complete.
 */
export async function writeSafetensorsFile(
  path: string,
  tensors: SafetensorsTensorInput[],
  metadata: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<WriteSafetensorsResult> {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const sizes: number[] = [];
  for (const tensor of tensors) {
    if (tensor.name === "__metadata__" || Object.hasOwn(header, tensor.name)) {
      throw new EdgeforgeError("INVALID_OPTION", `tensor name "${tensor.name}" is reserved or repeated`, { hint: "give every tensor a unique name" });
    }
    const size = tensorBytes(tensor);
    header[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + size] };
    sizes.push(size);
    offset += size;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const jsonBytes = new TextEncoder().encode(json);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);

  const writer = await openAtomicWriter(path);
  try {
    await writer.write(prefix);
    await writer.write(jsonBytes);
    for (const [index, tensor] of tensors.entries()) {
      signal?.throwIfAborted();
      const data = tensor.data instanceof Uint8Array ? tensor.data : await tensor.data();
      if (data.byteLength !== sizes[index]) {
        throw new EdgeforgeError("INTERNAL", `tensor "${tensor.name}" supplied ${data.byteLength} bytes; ${tensor.dtype} [${tensor.shape.join(", ")}] needs ${sizes[index]}`, {
          hint: "this is a bug in the step that produced the tensor",
        });
      }
      await writer.write(data);
    }
    await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
  return { path, sizeBytes: writer.bytesWritten(), headerSizeBytes: jsonBytes.length };
}
