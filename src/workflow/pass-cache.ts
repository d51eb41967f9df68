import { mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import type { Artifact } from "../core/artifact.js";
import { tempPathFor, writeFileAtomic } from "../core/atomic-write.js";
import { EdgeforgeError } from "../core/errors.js";
import { sweepStaleTempFiles, waitForLock } from "../core/output-folder.js";
import { hashPathSha256, hashSha256, stableStringify } from "../core/hashing.js";
import type { PassData, PassLog, PassResult } from "../passes/pass.js";

/** Everything that decides a pass's output bytes: change any of it and the key changes. */
export interface PassCacheKeyParts {
  inputSha256: string;
  passId: string;
  passVersion: string;
  options: Record<string, unknown>;
  toolVersions: Record<string, string>;
  /** Fingerprints of the data the pass reads (Pass.readsData), "none" where absent; left out for data-free passes. */
  data?: Partial<Record<PassData, string>>;
}

export function computePassCacheKey(parts: PassCacheKeyParts): string {
  return hashSha256(stableStringify(parts));
}

export interface CachedPassRun {
  key: string;
  /** The folder holding the artifact's files. */
  dir: string;
  artifact: Artifact & { sha256: string };
  log: PassLog;
  /** How long the pass took when it actually ran. */
  durationMs: number;
  createdAt: string;
  hit: boolean;
}

interface CacheEntryFile {
  schemaVersion: 1;
  key: string;
  parts: PassCacheKeyParts;
  artifact: Omit<Artifact, "path" | "files"> & { sha256: string; path: string; files: string[] };
  log: PassLog;
  durationMs: number;
  createdAt: string;
}

export interface PassCache {
  readonly enabled: boolean;
  readonly dir: string;
  /** A stored run for this key whose files are intact, or undefined. Always undefined when disabled. */
  lookup(key: string): Promise<CachedPassRun | undefined>;
  /**
   * Run `produce` into a scratch folder and file its output under `key`, holding the entry's lock
   * meanwhile: a concurrent run storing the same key waits, then finds the entry (a hit) instead of
   * producing it again or replacing it under a reader. `onWait` is told whom it waits for.
   */
  store(
    key: string,
    parts: PassCacheKeyParts,
    produce: (outputDir: string) => Promise<PassResult>,
    options?: { signal?: AbortSignal; onWait?: (holder: string) => void },
  ): Promise<CachedPassRun>;
}

/**
 * Content-addressed pass outputs: `<dir>/passes/<key>/` holds the artifact and `entry.json`.
 * A folder appears only by an atomic rename once complete, so an interrupted run leaves at most
 * a temp folder (`.KEY.PID-RANDOM.tmp`, swept by the next store) behind, never a half entry; while
 * an entry is written its lock file `<key>.lock` is held (see `waitForLock`). With `enabled: false` nothing is looked up, but
 * outputs still land in `dir` (the run's own work folder) so the run has somewhere to keep them.
 */
export function openPassCache(options: { dir: string; enabled: boolean }): PassCache {
  const root = resolve(options.dir);
  const passesDir = join(root, "passes");
  return {
    enabled: options.enabled,
    dir: root,
    async lookup(key) {
      if (!options.enabled) return undefined;
      return readEntry(join(passesDir, key));
    },
    async store(key, parts, produce, storeOptions = {}) {
      const finalDir = join(passesDir, key);
      await mkdir(passesDir, { recursive: true });
      const lock = await waitForLock(join(passesDir, `${key}.lock`), `pass cache ${parts.passId}`, storeOptions);
      try {
        const done = options.enabled ? await readEntry(finalDir) : undefined;
        if (done) return done;
        await sweepStaleTempFiles(passesDir);
        const scratchDir = tempPathFor(finalDir);
        await mkdir(scratchDir);
        try {
          const result = await produce(scratchDir);
          const entry = await describeOutput(key, parts, result, scratchDir);
          await writeFileAtomic(join(scratchDir, "entry.json"), `${JSON.stringify(entry, null, 2)}\n`);
          await rm(finalDir, { recursive: true, force: true });
          await rename(scratchDir, finalDir);
        } catch (error) {
          await rm(scratchDir, { recursive: true, force: true });
          throw error;
        }
        const stored = await readEntry(finalDir);
        if (!stored) throw new EdgeforgeError("INTERNAL", `cache entry ${finalDir} could not be read back after writing`);
        return { ...stored, hit: false };
      } finally {
        await lock.release();
      }
    },
  };
}

async function describeOutput(key: string, parts: PassCacheKeyParts, result: PassResult, scratchDir: string): Promise<CacheEntryFile> {
  const inside = (path: string): string => {
    const rel = relative(scratchDir, resolve(path));
    if (rel.startsWith("..") || isAbsolute(rel)) {
      throw new EdgeforgeError("INTERNAL", `pass ${parts.passId} wrote ${path} outside its output folder`, { details: { path, scratchDir } });
    }
    return rel;
  };
  const files = [...new Set([result.artifact.path, ...result.artifact.files].map(inside))];
  const sha256 = result.artifact.sha256 ?? (await hashPathSha256(result.artifact.path));
  return {
    schemaVersion: 1,
    key,
    parts,
    artifact: { ...result.artifact, path: inside(result.artifact.path), files, sha256 },
    log: result.log,
    durationMs: result.durationMs,
    createdAt: new Date().toISOString(),
  };
}

async function readEntry(dir: string): Promise<CachedPassRun | undefined> {
  let entry: CacheEntryFile;
  try {
    entry = JSON.parse(await readFile(join(dir, "entry.json"), "utf8")) as CacheEntryFile;
  } catch {
    return undefined;
  }
  const files = entry.artifact.files.map((file) => join(dir, file));
  const mainPath = join(dir, entry.artifact.path);
  // An entry whose bytes changed or vanished is a miss, not a wrong answer.
  try {
    for (const file of files) await stat(file);
    if ((await hashPathSha256(mainPath)) !== entry.artifact.sha256) return undefined;
  } catch {
    return undefined;
  }
  return {
    key: entry.key,
    dir,
    artifact: { ...entry.artifact, path: mainPath, files },
    log: entry.log,
    durationMs: entry.durationMs,
    createdAt: entry.createdAt,
    hit: true,
  };
}
