import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, writevSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Bodies at least this large travel between the server and a worker process through files, not IPC:
 * Node's IPC serializes a message, splits it into chunks and joins them again, several fresh copies of
 * a 1 MB output per request; a file overwritten in place costs one copy in and one out.
 */
export const payloadFileMinBytes = 64 * 1024;

/** The two files of one worker process: requests (server → worker) and responses (worker → server). */
export interface PayloadPaths {
  folder: string;
  requestPath: string;
  responsePath: string;
}

const folderPrefix = "edgeforge-serve-";

/**
 * A private folder (0700) on tmpfs when the system has one, so the bytes stay in memory. Its name carries
 * the server's pid, so folders left by a server that was killed (SIGKILL skips every cleanup) are swept here.
 */
export function createPayloadFolder(): PayloadPaths {
  const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  sweepOrphanedPayloadFolders(base);
  const folder = mkdtempSync(join(base, `${folderPrefix}${process.pid}-`));
  return { folder, requestPath: join(folder, "request.bin"), responsePath: join(folder, "response.bin") };
}

/** Remove payload folders whose server process no longer exists; other users' folders are left alone. */
export function sweepOrphanedPayloadFolders(base: string): void {
  for (const name of readdirSync(base)) {
    const pid = Number(/^edgeforge-serve-(\d+)-/.exec(name)?.[1]);
    if (!pid || isProcessAlive(pid)) continue;
    try {
      rmSync(join(base, name), { recursive: true, force: true });
    } catch {
      // Another user's folder (EPERM): theirs to sweep.
    }
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function removePayloadFolder(paths: PayloadPaths): void {
  rmSync(paths.folder, { recursive: true, force: true });
}

/**
 * One side's view of a payload file: whole bodies written at offset 0 and read back by length. The
 * queue in front of a worker runs one request at a time, so a body is always read before the next
 * one overwrites it.
 */
export class PayloadFile {
  private readonly fd: number;
  private scratch = new Uint8Array(0);
  private leased = false;

  /** The server creates the file (`create`); the worker opens the one it was given. */
  constructor(path: string, create: boolean) {
    this.fd = openSync(path, create ? "w+" : "r+", 0o600);
  }

  /** Write `pieces` one after another from offset 0; returns the byte count. */
  write(pieces: readonly Uint8Array[]): number {
    let total = 0;
    for (const piece of pieces) total += piece.byteLength;
    let written = 0;
    while (written < total) written += writevSync(this.fd, remaining(pieces, written), written);
    return total;
  }

  /** Read `length` bytes from offset 0 into a new buffer the caller owns. */
  readOwned(length: number): Uint8Array {
    return this.fill(new Uint8Array(length));
  }

  /**
   * Read `length` bytes from offset 0 into a reused buffer the caller holds until `release` (a response
   * still being written to its socket); while it is out, a fresh buffer. A fresh 1 MB buffer cost ~5 ms
   * on the shared machine (page faults), more than the read.
   */
  readLeased(length: number): { bytes: Uint8Array; release: () => void } {
    if (this.leased) return { bytes: this.readOwned(length), release: () => {} };
    this.leased = true;
    let released = false;
    return {
      bytes: this.readShared(length),
      release: () => {
        if (released) return;
        released = true;
        this.leased = false;
      },
    };
  }

  /** Read `length` bytes from offset 0 into a reused buffer, valid until the next read. */
  readShared(length: number): Uint8Array {
    if (this.scratch.byteLength < length) this.scratch = new Uint8Array(length);
    return this.fill(this.scratch.subarray(0, length));
  }

  close(): void {
    closeSync(this.fd);
  }

  private fill(target: Uint8Array): Uint8Array {
    let filled = 0;
    while (filled < target.byteLength) {
      const count = readSync(this.fd, target, filled, target.byteLength - filled, filled);
      if (count === 0) throw new Error(`payload file ended after ${filled} of ${target.byteLength} bytes`);
      filled += count;
    }
    return target;
  }
}

/** The pieces from byte `offset` of their concatenation on (after a short write). */
function remaining(pieces: readonly Uint8Array[], offset: number): Uint8Array[] {
  const rest: Uint8Array[] = [];
  let skip = offset;
  for (const piece of pieces) {
    if (skip >= piece.byteLength) {
      skip -= piece.byteLength;
      continue;
    }
    rest.push(skip > 0 ? piece.subarray(skip) : piece);
    skip = 0;
  }
  return rest;
}
