import { open, stat, type FileHandle } from "node:fs/promises";
import { EdgeforgeError, fileError } from "./errors.js";

/**
 * Random access to a file's bytes without reading the whole file: format readers pull headers
 * by range and never allocate more than the file can hold.
 */
export interface ByteSource extends AsyncDisposable {
  readonly path: string;
  readonly sizeBytes: number;
  /** Exactly `length` bytes at `offset`, or a TRUNCATED_FILE error. */
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

export async function openByteSource(path: string): Promise<ByteSource> {
  let handle: FileHandle;
  let sizeBytes: number;
  try {
    const info = await stat(path);
    if (info.isDirectory()) {
      throw new EdgeforgeError("FILE_READ_FAILED", `${path} is a folder, not a file`, {
        hint: "pass the model file itself",
        details: { path },
      });
    }
    sizeBytes = info.size;
    handle = await open(path, "r");
  } catch (error) {
    throw fileError(error, path, "read");
  }
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return {
    path,
    sizeBytes,
    async read(offset, length) {
      if (offset < 0 || length < 0 || !Number.isSafeInteger(offset + length) || offset + length > sizeBytes) {
        throw new EdgeforgeError("TRUNCATED_FILE", `${path}: needs bytes ${offset}..${offset + length} but the file has ${sizeBytes}`, {
          hint: "the file is truncated or its header declares more data than it holds; re-download or re-export it",
          details: { path, offset, length, sizeBytes },
        });
      }
      const buffer = new Uint8Array(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled < length) {
        throw new EdgeforgeError("TRUNCATED_FILE", `${path}: file ended at ${offset + filled} while reading ${length} bytes at ${offset}`, {
          hint: "the file changed while being read, or is truncated",
          details: { path, offset, length },
        });
      }
      return buffer;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
