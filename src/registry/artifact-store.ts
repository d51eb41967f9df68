import { randomBytes } from "node:crypto";
import { pathExists } from "../core/path-exists.js";
import { cp, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileError } from "../core/errors.js";
import { computeModelManifest, rootDigestOf, type ModelManifest } from "../signing/model-manifest.js";

export interface ArtifactFile {
  name: string;
  sha256: string;
  sizeBytes: number;
}

export interface ArtifactContents {
  /** The file's sha256 for a single file; the OMS root digest (over every file's digest) for a folder. */
  digest: string;
  isFolder: boolean;
  files: ArtifactFile[];
  sizeBytes: number;
  manifest: ModelManifest;
}

/** Hash an artifact the way its signature does, so the registry's digest and the signature agree. */
export async function describeArtifactContents(path: string, signal?: AbortSignal): Promise<ArtifactContents> {
  const info = await stat(path).catch((error: unknown) => {
    throw fileError(error, path, "read");
  });
  const manifest = await computeModelManifest(path, signal ? { signal } : {});
  const files: ArtifactFile[] = [];
  for (const resource of manifest.resources) {
    const filePath = resource.name === "." ? path : join(path, ...resource.name.split("/"));
    files.push({ name: resource.name, sha256: resource.digest, sizeBytes: (await stat(filePath)).size });
  }
  const isFolder = info.isDirectory();
  const digest = isFolder ? rootDigestOf(manifest.resources) : (manifest.resources[0]?.digest ?? "");
  return { digest, isFolder, files, sizeBytes: files.reduce((sum, file) => sum + file.sizeBytes, 0), manifest };
}

/**
 * Copy an artifact into the content-addressed store (`sha256/<digest>/<original name>`): copy to a
 * temp folder, hash the copy (so the store's bytes are the ones the digest names), then one rename.
 * A crash leaves either no entry or a complete one; an existing entry with that digest is reused.
 */
export async function storeArtifact(storeDir: string, sourcePath: string, signal?: AbortSignal): Promise<{ contents: ArtifactContents; storePath: string }> {
  const name = basename(sourcePath);
  const temp = join(storeDir, "tmp", randomBytes(8).toString("hex"));
  try {
    await mkdir(temp, { recursive: true });
    await cp(sourcePath, join(temp, name), { recursive: true, preserveTimestamps: true });
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw fileError(error, sourcePath, "read");
  }
  try {
    const contents = await describeArtifactContents(join(temp, name), signal);
    const entry = join(storeDir, "sha256", contents.digest);
    const existing = await readdir(entry).catch(() => []);
    if (existing.length === 1) {
      await rm(temp, { recursive: true, force: true });
      return { contents, storePath: join("sha256", contents.digest, existing[0] as string) };
    } else {
      await mkdir(dirname(entry), { recursive: true });
      try {
        await rename(temp, entry);
      } catch (error) {
        // Another process stored the same digest first: its copy holds the same bytes.
        await rm(temp, { recursive: true, force: true });
        if (!(await pathExists(entry))) throw fileError(error, entry, "write");
      }
    }
    return { contents, storePath: join("sha256", contents.digest, name) };
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}
