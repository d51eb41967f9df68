import { closeSync, openSync, readSync } from "node:fs";
import { open } from "node:fs/promises";
import type { TensorProto } from "onnx-buf";
import { EdgeforgeError } from "../../core/errors.js";

/**
 * A tensor's raw_data that is not in memory: a byte range of a file, or bytes computed from one
 * (a quantized weight). `stream` hands the bytes out in order through chunks of one reused buffer,
 * so a model's weights pass through a few hundred KiB of memory instead of being held whole.
 */
export interface StreamedBytes {
  readonly byteLength: number;
  /**
   * Call `sink` with consecutive chunks (each a multiple of `multipleOfBytes` long but the last;
   * chunks start at offset 0 of their buffer, so typed views need no copy). A chunk is only valid
   * until `sink`'s promise resolves: its buffer is reused.
   */
  stream(sink: (chunk: Uint8Array<ArrayBuffer>) => Promise<void> | void, options?: StreamOptions): Promise<void>;
  /** `stream` with synchronous reads, for synchronous callers (a quantizer's range pass). */
  streamSync(sink: (chunk: Uint8Array<ArrayBuffer>) => void, options?: StreamOptions): void;
  /** All the bytes in fresh memory (the slow path, for code that needs the values themselves). */
  readAll(): Uint8Array<ArrayBuffer>;
}

export interface StreamOptions {
  multipleOfBytes?: number;
  signal?: AbortSignal;
}

/** Bytes per chunk: large enough that syscalls are cheap, small enough to stay in the CPU cache. */
export const streamChunkBytes = 1 << 18;

/**
 * Chunk buffers, kept between streams: on VMs with shadow paging, touching fresh memory costs more
 * than the reads themselves. A stream borrows one and gives it back; nested streams take another.
 */
const spareBuffers: Uint8Array<ArrayBuffer>[] = [];

/** The chunk length for `multipleOfBytes` (a whole number of them, at least one). */
export function chunkBytesFor(multipleOfBytes = 1): number {
  return Math.max(1, Math.floor(streamChunkBytes / multipleOfBytes)) * multipleOfBytes;
}

/** Run `use` with a reused buffer of at least `byteLength` bytes. */
export function withChunkBuffer<T>(byteLength: number, use: (buffer: Uint8Array<ArrayBuffer>) => T): T {
  const index = spareBuffers.findIndex((buffer) => buffer.byteLength >= byteLength);
  const buffer = index >= 0 ? spareBuffers.splice(index, 1)[0]! : new Uint8Array(Math.max(byteLength, streamChunkBytes));
  const result = use(buffer);
  if (result instanceof Promise) return result.finally(() => spareBuffers.push(buffer)) as T;
  spareBuffers.push(buffer);
  return result;
}

function shortFile(path: string, offsetBytes: number, byteLength: number): EdgeforgeError {
  return new EdgeforgeError("TRUNCATED_FILE", `${path}: ended before bytes ${offsetBytes}..${offsetBytes + byteLength}`, {
    hint: "the file changed while it was being read, or is truncated",
    details: { path, offsetBytes, byteLength },
  });
}

/** `byteLength` bytes of the file at `path` from `offsetBytes`, read on demand. */
export function fileRange(path: string, offsetBytes: number, byteLength: number): StreamedBytes {
  const readSyncInto = (fd: number, bytes: Uint8Array, at: number, length: number, position: number): void => {
    for (let filled = 0; filled < length; ) {
      const read = readSync(fd, bytes, at + filled, length - filled, position + filled);
      if (read === 0) throw shortFile(path, offsetBytes, byteLength);
      filled += read;
    }
  };
  return {
    byteLength,
    async stream(sink, options = {}) {
      const chunkBytes = chunkBytesFor(options.multipleOfBytes);
      const handle = await open(path, "r");
      try {
        await withChunkBuffer(chunkBytes, async (buffer) => {
          for (let done = 0; done < byteLength; ) {
            options.signal?.throwIfAborted();
            const want = Math.min(chunkBytes, byteLength - done);
            for (let filled = 0; filled < want; ) {
              const { bytesRead } = await handle.read(buffer, filled, want - filled, offsetBytes + done + filled);
              if (bytesRead === 0) throw shortFile(path, offsetBytes, byteLength);
              filled += bytesRead;
            }
            await sink(buffer.subarray(0, want));
            done += want;
          }
        });
      } finally {
        await handle.close();
      }
    },
    streamSync(sink, options = {}) {
      const chunkBytes = chunkBytesFor(options.multipleOfBytes);
      const fd = openSync(path, "r");
      try {
        withChunkBuffer(chunkBytes, (buffer) => {
          for (let done = 0; done < byteLength; ) {
            options.signal?.throwIfAborted();
            const want = Math.min(chunkBytes, byteLength - done);
            readSyncInto(fd, buffer, 0, want, offsetBytes + done);
            sink(buffer.subarray(0, want));
            done += want;
          }
        });
      } finally {
        closeSync(fd);
      }
    },
    readAll() {
      const bytes = new Uint8Array(byteLength);
      const fd = openSync(path, "r");
      try {
        readSyncInto(fd, bytes, 0, byteLength, offsetBytes);
      } finally {
        closeSync(fd);
      }
      return bytes;
    },
  };
}

const streamed = new WeakMap<TensorProto, StreamedBytes>();

/** Replace the property by a plain value: the tensor is an ordinary message again. */
function settle(tensor: TensorProto, bytes: Uint8Array<ArrayBuffer>): void {
  streamed.delete(tensor);
  Object.defineProperty(tensor, "rawData", { value: bytes, writable: true, enumerable: true, configurable: true });
}

/**
 * Give `tensor` raw_data that stays on disk (or is computed) until written. Code that reads
 * `tensor.rawData` still gets the bytes (read then, in full); the writer and the quantizers ask
 * `streamedRawData` first and stream instead.
 */
export function setStreamedRawData(tensor: TensorProto, bytes: StreamedBytes): void {
  streamed.set(tensor, bytes);
  Object.defineProperty(tensor, "rawData", {
    enumerable: true,
    configurable: true,
    get(this: TensorProto) {
      const all = bytes.readAll();
      settle(this, all);
      return all;
    },
    set(this: TensorProto, value: Uint8Array<ArrayBuffer>) {
      settle(this, value);
    },
  });
}

/** The tensor's streamed raw_data, when it has not been read into memory. */
export function streamedRawData(tensor: TensorProto): StreamedBytes | undefined {
  return streamed.get(tensor);
}

/** raw_data's length without reading streamed bytes. */
export function rawDataByteLength(tensor: TensorProto): number {
  return streamed.get(tensor)?.byteLength ?? tensor.rawData.byteLength;
}
