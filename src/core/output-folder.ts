import { link, mkdir, open, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
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

export interface OutputFolderLock extends AsyncDisposable {
  readonly folder: string;
  release(): Promise<void>;
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
  for (let attempt = 0; ; attempt += 1) {
    // Written aside and hard-linked into place: the lock appears whole or not at all.
    const draft = tempPathFor(lockPath);
    try {
      await writeFile(draft, JSON.stringify({ pid: process.pid, command, startedAt: new Date().toISOString() }));
      await link(draft, lockPath);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw unwritable(folder, error);
      const holder = await readLockHolder(lockPath);
      if (attempt === 0 && (holder === undefined || !isAlive(holder.pid))) {
        await rm(lockPath, { force: true });
        continue;
      }
      throw new EdgeforgeError("OUTPUT_LOCKED", `the output folder ${folder} is in use by another edgeforge run${holder ? ` (process ${holder.pid}, ${holder.command}, since ${holder.startedAt})` : ""}`, {
        hint: "wait for that run to finish, or choose another output folder (-o)",
        details: { path: folder, lockPath, ...(holder ? { holder } : {}) },
      });
    } finally {
      await rm(draft, { force: true });
    }
  }
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    await rm(lockPath, { force: true });
  };
  return { folder, release, [Symbol.asyncDispose]: release };
}

async function readLockHolder(lockPath: string): Promise<{ pid: number; command: string; startedAt: string } | undefined> {
  try {
    const holder = JSON.parse(await readFile(lockPath, "utf8")) as { pid?: unknown; command?: unknown; startedAt?: unknown };
    if (typeof holder.pid !== "number") return undefined;
    return { pid: holder.pid, command: String(holder.command ?? "?"), startedAt: String(holder.startedAt ?? "?") };
  } catch {
    return undefined;
  }
}
