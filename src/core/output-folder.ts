import { randomBytes } from "node:crypto";
import { link, mkdir, open, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { tempFileNamePattern, tempPathFor } from "./atomic-write.js";
import { EdgeforgeError } from "./errors.js";

/** The lock file an output folder holds while a run writes into it. */
export const outputLockName = ".edgeforge.lock";

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function unwritable(folder: string, error: unknown): EdgeforgeError {
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  return new EdgeforgeError("FILE_WRITE_FAILED", `cannot write into the output folder ${folder}: ${errno ?? String(error)}`, {
    hint:
      errno === "ENOSPC" || errno === "EDQUOT"
        ? "free some space on that disk, or choose an output on another disk (-o)"
        : errno === "ENOTDIR" || errno === "EEXIST"
          ? "a file is in the way of that folder: choose another output path (-o)"
          : "choose an output folder you can write to (-o); the input is fine",
    details: { path: folder, errno },
    cause: error,
  });
}

/**
 * Prove `folder` is writable (made if missing, a temp file written and removed) before any work is
 * done, so an unwritable output fails in milliseconds with a hint about the output, not the input.
 * Folders made only for the probe are removed again unless `keep`: a run that fails later leaves nothing.
 */
export async function checkWritableFolder(folder: string, options: { keep?: boolean } = {}): Promise<void> {
  const probe = tempPathFor(join(folder, "write-probe"));
  let created: string | undefined;
  try {
    created = await mkdir(folder, { recursive: true });
    await (await open(probe, "wx")).close();
  } catch (error) {
    throw unwritable(folder, error);
  } finally {
    await rm(probe, { force: true });
    if (created !== undefined && !options.keep) await rm(created, { recursive: true, force: true });
  }
}

/**
 * Remove the temp files (`.NAME.PID-RANDOM.tmp`) that runs killed mid-write (SIGKILL, a power cut)
 * left in `folder`; files of live processes are left alone. Returns the names removed.
 */
export async function sweepStaleTempFiles(folder: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return [];
  }
  const stale = names.filter((name) => {
    const pid = tempFileNamePattern.exec(name)?.[1];
    return pid !== undefined && !isAlive(Number(pid));
  });
  await Promise.all(stale.map((name) => rm(join(folder, name), { force: true, recursive: true })));
  return stale;
}

export interface FileLock extends AsyncDisposable {
  readonly lockPath: string;
  release(): Promise<void>;
}

export interface OutputFolderLock extends FileLock {
  readonly folder: string;
}

interface LockHolder {
  pid: number;
  command: string;
  startedAt: string;
  nonce: string;
}

/**
 * One attempt at the exclusive lock file `lockPath`: written aside and hard-linked into place, so it
 * appears whole or not at all and only one process's link succeeds. A lock whose process is gone is
 * taken over. Returns the live holder when another process has it.
 */
async function tryLock(lockPath: string, command: string): Promise<{ lock: FileLock } | { holder: LockHolder | undefined }> {
  const nonce = randomBytes(8).toString("hex");
  for (let attempt = 0; ; attempt += 1) {
    const draft = tempPathFor(lockPath);
    try {
      await writeFile(draft, JSON.stringify({ pid: process.pid, command, startedAt: new Date().toISOString(), nonce }));
      await link(draft, lockPath);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = await readLockHolder(lockPath);
      if (attempt > 0 || (holder !== undefined && isAlive(holder.pid))) return { holder };
      // Re-read just before removing, so a lock another process took over meanwhile is not removed.
      const again = await readLockHolder(lockPath);
      if (again?.nonce === holder?.nonce) await rm(lockPath, { force: true });
    } finally {
      await rm(draft, { force: true });
    }
  }
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    if ((await readLockHolder(lockPath))?.nonce === nonce) await rm(lockPath, { force: true });
  };
  return { lock: { lockPath, release, [Symbol.asyncDispose]: release } };
}

function describeHolder(holder: LockHolder | undefined): string {
  return holder ? ` (process ${holder.pid}, ${holder.command}, since ${holder.startedAt})` : "";
}

/**
 * Claim `folder` for one run: writable (checked before any work), stale temp files swept, and an
 * exclusive lock file so a second run into the same folder refuses clearly instead of silently
 * replacing the first run's outputs. A lock whose process is gone is taken over.
 */
export async function claimOutputFolder(folder: string, command: string): Promise<OutputFolderLock> {
  await checkWritableFolder(folder, { keep: true });
  await sweepStaleTempFiles(folder);
  const lockPath = join(folder, outputLockName);
  let outcome: Awaited<ReturnType<typeof tryLock>>;
  try {
    outcome = await tryLock(lockPath, command);
  } catch (error) {
    throw unwritable(folder, error);
  }
  if ("holder" in outcome) {
    throw new EdgeforgeError("OUTPUT_LOCKED", `the output folder ${folder} is in use by another edgeforge run${describeHolder(outcome.holder)}`, {
      hint: "wait for that run to finish, or choose another output folder (-o)",
      details: { path: folder, lockPath, ...(outcome.holder ? { holder: outcome.holder } : {}) },
    });
  }
  return { ...outcome.lock, folder };
}

/**
 * Wait for the exclusive lock file `lockPath` (see `claimOutputFolder`), polling while a live process
 * holds it; `onWait` is told once whom it waits for. For short critical sections shared by concurrent
 * runs (a cache entry being written), where waiting is the right answer and refusing is not.
 */
export async function waitForLock(
  lockPath: string,
  command: string,
  options: { signal?: AbortSignal; pollMs?: number; onWait?: (holder: string) => void } = {},
): Promise<FileLock> {
  let told = false;
  for (;;) {
    options.signal?.throwIfAborted();
    let outcome: Awaited<ReturnType<typeof tryLock>>;
    try {
      outcome = await tryLock(lockPath, command);
    } catch (error) {
      throw unwritable(dirname(lockPath), error);
    }
    if ("lock" in outcome) return outcome.lock;
    if (!told) options.onWait?.(`another edgeforge run${describeHolder(outcome.holder)}`);
    told = true;
    await delay(options.pollMs ?? 200, undefined, options.signal ? { signal: options.signal } : {});
  }
}

async function readLockHolder(lockPath: string): Promise<LockHolder | undefined> {
  try {
    const holder = JSON.parse(await readFile(lockPath, "utf8")) as { pid?: unknown; command?: unknown; startedAt?: unknown; nonce?: unknown };
    if (typeof holder.pid !== "number") return undefined;
    return { pid: holder.pid, command: String(holder.command ?? "?"), startedAt: String(holder.startedAt ?? "?"), nonce: String(holder.nonce ?? "") };
  } catch {
    return undefined;
  }
}
