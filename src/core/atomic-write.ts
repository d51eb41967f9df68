import { randomBytes } from "node:crypto";
import { createReadStream, writeSync } from "node:fs";
import { mkdir, open, rename, rm, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileError } from "./errors.js";

/**
 * The hidden temp file an output is written to before its rename: `.NAME.PID-RANDOM.tmp` beside it.
 * The writer's process id lets a later run sweep what a killed run left (see output-folder.ts).
 */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(6).toString("hex")}.tmp`);
}

/** Matches `tempPathFor` names; group 1 is the writer's process id. */
export const tempFileNamePattern = /^\..+\.(\d+)-[0-9a-f]{12}\.tmp$/;

/** fsync the folder after a rename, so that the new name itself survives a crash (once per output). */
async function syncFolder(path: string): Promise<void> {
  const folder = await open(dirname(path), "r");
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

/**
 * Write `data` to `path` via a temp file in the same folder, one fsync and a rename (then the folder's fsync), so
 * readers never see a partial file.
 * `mode` sets the permissions from the first byte on (0o600 for private keys).
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, signal?: AbortSignal, mode?: number): Promise<void> {
  const tempPath = tempPathFor(path);
  try {
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(tempPath, "w", mode);
    try {
      await handle.writeFile(data, { signal });
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tempPath, path);
    await syncFolder(path);
  } catch (error) {
    await rm(tempPath, { force: true });
    throw fileError(error, path, "write");
  }
}

export interface AtomicStreamWriter {
  readonly tempPath: string;
  /** Append bytes; `chunk` may be reused as soon as the promise resolves. */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * `write`, synchronously: for a stream of many chunks from the page cache (a quantized weight),
   * where a thread-pool round trip per chunk would cost more than the write itself.
   */
  writeSync(chunk: Uint8Array): void;
  bytesWritten(): number;
  /** Write out what is gathered: the temp file then holds every byte written so far. */
  flush(): Promise<void>;
  /**
   * Flush, fsync and rename into place. `beforeRename` (a check of the finished temp file, by its
   * path) runs while the file is synced; when it throws, the temp file is removed and nothing is
   * renamed, so a previous file at `path` stays as it was.
   */
  commit(beforeRename?: (tempPath: string) => Promise<void>): Promise<void>;
  /** Remove the temp file; safe to call after a failure. */
  abort(): Promise<void>;
}

/** Small writes are gathered into one buffer of this size (a syscall each would cost more than the copy). */
const gatherBytes = 1 << 16;
/**
 * A durable writer starts a data sync in the background each time this much more was written, so
 * the disk writes while the caller computes the rest and the final fsync has little left to wait for.
 */
const earlySyncBytes = 8 << 20;

/**
 * Stream a large output into a temp file (no fsync while writing); `commit` fsyncs it once and renames it into place.
 * `durable: false` (scratch files in a work folder, removed after use) renames without the fsyncs.
 */
export async function openAtomicWriter(path: string, { durable = true }: { durable?: boolean } = {}): Promise<AtomicStreamWriter> {
  const tempPath = tempPathFor(path);
  let handle: FileHandle;
  try {
    await mkdir(dirname(path), { recursive: true });
    handle = await open(tempPath, "w");
  } catch (error) {
    throw fileError(error, path, "write");
  }
  const gathered = new Uint8Array(gatherBytes);
  let gatheredBytes = 0;
  let written = 0;
  let closed = false;
  let done = false;
  const writeAll = async (bytes: Uint8Array): Promise<void> => {
    for (let at = 0; at < bytes.byteLength; ) at += (await handle.write(bytes, at, bytes.byteLength - at)).bytesWritten;
  };
  const writeAllSync = (bytes: Uint8Array): void => {
    for (let at = 0; at < bytes.byteLength; ) at += writeSync(handle.fd, bytes, at, bytes.byteLength - at);
  };
  const flush = async (): Promise<void> => {
    if (gatheredBytes === 0) return;
    await writeAll(gathered.subarray(0, gatheredBytes));
    gatheredBytes = 0;
  };
  const flushSync = (): void => {
    writeAllSync(gathered.subarray(0, gatheredBytes));
    gatheredBytes = 0;
  };
  /** Gather `chunk` when it fits in what is left of the buffer. */
  const gathers = (chunk: Uint8Array): boolean => {
    if (gatheredBytes + chunk.byteLength > gatherBytes) return false;
    gathered.set(chunk, gatheredBytes);
    gatheredBytes += chunk.byteLength;
    return true;
  };
  let syncedUpTo = 0;
  let earlySync: Promise<void> | undefined;
  let earlySyncRunning = false;
  let earlySyncError: unknown;
  const syncEarly = (): void => {
    if (!durable || earlySyncRunning || written - syncedUpTo < earlySyncBytes) return;
    syncedUpTo = written;
    earlySyncRunning = true;
    // A write-back error is reported once, to this sync: kept for commit to throw.
    earlySync = handle.datasync().then(
      () => undefined,
      (error: unknown) => void (earlySyncError ??= error),
    ).finally(() => (earlySyncRunning = false));
  };
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await earlySync;
    await handle.close();
  };
  return {
    tempPath,
    async write(chunk) {
      written += chunk.byteLength;
      if (gathers(chunk)) return;
      await flush();
      if (!gathers(chunk)) await writeAll(chunk);
      syncEarly();
    },
    writeSync(chunk) {
      written += chunk.byteLength;
      if (gathers(chunk)) return;
      flushSync();
      if (!gathers(chunk)) writeAllSync(chunk);
      syncEarly();
    },
    bytesWritten: () => written,
    flush,
    async commit(beforeRename) {
      let checkFailed = false;
      try {
        await flush();
        // The final fsync need not wait for a running early sync: it covers every byte written.
        const synced = Promise.all([earlySync, durable ? handle.sync() : undefined]).then(() => {
          if (earlySyncError !== undefined) throw earlySyncError;
        });
        if (beforeRename) {
          // The check reads the page cache while the thread pool waits on the disk; both must succeed.
          const checked = (async () => beforeRename(tempPath))();
          const [sync, check] = await Promise.allSettled([synced, checked]);
          if (check.status === "rejected") {
            checkFailed = true;
            throw check.reason;
          }
          if (sync.status === "rejected") throw sync.reason;
        } else {
          await synced;
        }
        await close();
        await rename(tempPath, path);
        done = true;
        if (durable) await syncFolder(path);
      } catch (error) {
        await close().catch(() => undefined);
        await rm(tempPath, { force: true });
        // The check's own error, as it was thrown: it is about the content, not the file.
        if (checkFailed) throw error;
        throw fileError(error, path, "write");
      }
    },
    async abort() {
      if (done) return;
      await close().catch(() => undefined);
      await rm(tempPath, { force: true });
    },
  };
}

/** Copy a file by streaming into a temp file and renaming, so a reader never sees half an artifact. */
export async function copyFileAtomic(source: string, destination: string, signal?: AbortSignal): Promise<void> {
  const writer = await openAtomicWriter(destination);
  try {
    for await (const chunk of createReadStream(source, { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) })) {
      await writer.write(chunk as Buffer);
    }
    await writer.commit();
  } catch (error) {
    await writer.abort();
    throw fileError(error, source, "read");
  }
}
