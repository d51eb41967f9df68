import { openByteSource } from "../../core/byte-source.js";
import { EdgeforgeError } from "../../core/errors.js";
import type { GgufHeader, GgufTensorInfo } from "./read-gguf.js";

export interface ReadGgufTensorOptions {
  signal?: AbortSignal;
}

export interface ReadGgufTensorChunksOptions extends ReadGgufTensorOptions {
  /** Bytes per yielded chunk; default 4 MiB. */
  chunkBytes?: number;
}

export function findGgufTensor(header: GgufHeader, tensorName: string): GgufTensorInfo {
  const tensor = header.tensors.find((candidate) => candidate.name === tensorName);
  if (!tensor) {
    throw new EdgeforgeError("INVALID_OPTION", `${header.path} has no tensor named "${tensorName}"`, {
      hint: `tensor names look like ${header.tensors.slice(0, 3).map((t) => `"${t.name}"`).join(", ") || "(the file has none)"}`,
      details: { path: header.path, tensorName },
    });
  }
  return tensor;
}

/** One tensor's stored bytes (a ranged read of `path`, which must be the file `header` came from). */
export async function readGgufTensorData(path: string, header: GgufHeader, tensorName: string, options: ReadGgufTensorOptions = {}): Promise<Uint8Array> {
  const tensor = findGgufTensor(header, tensorName);
  options.signal?.throwIfAborted();
  await using source = await openByteSource(path);
  checkSameFile(source.sizeBytes, header);
  return await source.read(header.dataOffset + tensor.offset, tensor.sizeBytes);
}

/** One tensor's bytes in bounded chunks, for copying big tensors without holding them whole (writeGguf accepts this). */
export async function* readGgufTensorChunks(
  path: string,
  header: GgufHeader,
  tensorName: string,
  options: ReadGgufTensorChunksOptions = {},
): AsyncGenerator<Uint8Array> {
  const tensor = findGgufTensor(header, tensorName);
  const chunkBytes = options.chunkBytes ?? 4 << 20;
  await using source = await openByteSource(path);
  checkSameFile(source.sizeBytes, header);
  const start = header.dataOffset + tensor.offset;
  for (let done = 0; done < tensor.sizeBytes; ) {
    options.signal?.throwIfAborted();
    const length = Math.min(chunkBytes, tensor.sizeBytes - done);
    yield await source.read(start + done, length);
    done += length;
  }
}

function checkSameFile(sizeBytes: number, header: GgufHeader): void {
  if (sizeBytes !== header.fileSizeBytes) {
    throw new EdgeforgeError("FILE_READ_FAILED", `${header.path} changed size since its header was read (${header.fileSizeBytes} → ${sizeBytes} bytes)`, {
      hint: "read the header again from the same file",
      details: { path: header.path, headerFileSizeBytes: header.fileSizeBytes, sizeBytes },
    });
  }
}
