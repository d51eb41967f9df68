import { createHash } from "node:crypto";
import { lstat, readdir, realpath, stat } from "node:fs/promises";
import { basename, join, relative, resolve, sep } from "node:path";
import { EdgeforgeError, fileError } from "../core/errors.js";
import { hashFileSha256 } from "../core/hashing.js";

/** OMS v1.0 `serialization` for the "files" method, spelled as the format spells it. */
export interface FileSerialization {
  method: "files";
  hash_type: "sha256";
  allow_symlinks: boolean;
  ignore_paths: string[];
}

export interface ModelResource {
  /** POSIX path relative to the model folder; "." for a single-file model. */
  name: string;
  algorithm: "sha256";
  digest: string;
}

export interface ModelManifest {
  /** Informative only: the last path component. */
  modelName: string;
  serialization: FileSerialization;
  /** Sorted component-wise by POSIX path. */
  resources: ModelResource[];
}

/** Paths OMS leaves out by default: version-control files never belong to a model. */
export const defaultIgnorePaths = [".git", ".gitattributes", ".github", ".gitignore"] as const;

export interface ManifestOptions {
  /** Paths relative to the model folder; a folder excludes everything under it. */
  ignorePaths?: readonly string[];
  allowSymlinks?: boolean;
  signal?: AbortSignal;
}

/** Component-wise order of POSIX paths (what sorting Python PurePosixPath objects gives). */
export function comparePosixPaths(a: string, b: string): number {
  const left = a.split("/");
  const right = b.split("/");
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const x = left[i] as string;
    const y = right[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return left.length - right.length;
}

function isIgnored(name: string, ignorePaths: readonly string[]): boolean {
  return ignorePaths.some((ignored) => name === ignored || name.startsWith(`${ignored}/`));
}

/**
 * sha256 over the concatenated raw (not hex) digests, in resource order: the statement's subject digest.
 * Not core's `hashFolderSha256` on purpose: this one is fixed by the OpenSSF Model Signing spec (recursive,
 * ignore paths, names only in the manifest), so other OMS verifiers compute the same value; that one is
 * edgeforge's artifact identity (cache keys, reports, registry), whose digest must change when a file is renamed.
 */
export function rootDigestOf(resources: readonly ModelResource[]): string {
  const hash = createHash("sha256");
  for (const resource of resources) hash.update(Buffer.from(resource.digest, "hex"));
  return hash.digest("hex");
}

async function listModelFiles(root: string, rootReal: string, allowSymlinks: boolean, ignorePaths: readonly string[]): Promise<Array<{ name: string; path: string }>> {
  const files: Array<{ name: string; path: string }> = [];
  const walk = async (folder: string): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true });
    for (const entry of entries) {
      const path = join(folder, entry.name);
      const name = relative(root, path).split(sep).join("/");
      if (isIgnored(name, ignorePaths)) continue;
      let isDirectory = entry.isDirectory();
      if (entry.isSymbolicLink()) {
        if (!allowSymlinks) {
          throw new EdgeforgeError("UNSAFE_PATH", `the model holds a symbolic link: ${name}`, {
            hint: "replace the link with the file it points to, or sign with symbolic links allowed",
            details: { path },
          });
        }
        const target = await realpath(path);
        if (target !== rootReal && !target.startsWith(`${rootReal}${sep}`)) {
          throw new EdgeforgeError("UNSAFE_PATH", `the link ${name} points outside the model folder`, { hint: "copy the target into the model folder", details: { path, target } });
        }
        isDirectory = (await stat(target)).isDirectory();
      } else if (!isDirectory && !entry.isFile()) {
        throw new EdgeforgeError("UNSUPPORTED_FEATURE", `the model holds ${name}, which is neither a file nor a folder`, { hint: "remove sockets, pipes and devices from the model folder", details: { path } });
      }
      if (isDirectory) await walk(path);
      else files.push({ name, path });
    }
  };
  await walk(root);
  return files;
}

/** Hash every file of a model (a file or a folder) the way OMS "files" serialization does. */
export async function computeModelManifest(modelPath: string, options: ManifestOptions = {}): Promise<ModelManifest> {
  const root = resolve(modelPath);
  const allowSymlinks = options.allowSymlinks ?? false;
  const ignorePaths = [...new Set(options.ignorePaths ?? defaultIgnorePaths)].sort(comparePosixPaths);
  const serialization: FileSerialization = { method: "files", hash_type: "sha256", allow_symlinks: allowSymlinks, ignore_paths: ignorePaths };
  let info;
  try {
    info = await lstat(root);
  } catch (error) {
    throw fileError(error, modelPath, "read");
  }
  const modelName = basename(root);
  if (info.isSymbolicLink() && !allowSymlinks) {
    throw new EdgeforgeError("UNSAFE_PATH", `${modelPath} is a symbolic link`, { hint: "sign the file it points to", details: { path: modelPath } });
  }
  if (!info.isDirectory() && !(info.isSymbolicLink() && (await stat(root)).isDirectory())) {
    return { modelName, serialization, resources: [{ name: ".", algorithm: "sha256", digest: await hashFileSha256(root, options.signal) }] };
  }
  let files;
  try {
    files = await listModelFiles(root, await realpath(root), allowSymlinks, ignorePaths);
  } catch (error) {
    throw fileError(error, modelPath, "read");
  }
  if (files.length === 0) {
    throw new EdgeforgeError("EMPTY_FILE", `${modelPath} holds no files to sign`, { hint: "check the ignore paths", details: { path: modelPath, ignorePaths } });
  }
  files.sort((a, b) => comparePosixPaths(a.name, b.name));
  const resources: ModelResource[] = [];
  for (const file of files) resources.push({ name: file.name, algorithm: "sha256", digest: await hashFileSha256(file.path, options.signal) });
  return { modelName, serialization, resources };
}
