import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileError } from "./errors.js";

export async function hashFileSha256(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash("sha256");
  try {
    for await (const chunk of createReadStream(path, { signal, highWaterMark: 1 << 20 })) {
      hash.update(chunk as Buffer);
    }
  } catch (error) {
    throw fileError(error, path, "read");
  }
  return hash.digest("hex");
}

export function hashSha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Stable JSON (sorted keys) so equal objects hash equal. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(",")}}`;
}

/**
 * A folder's identity: the hash of its files' names and hashes (sorted), so any changed byte or name changes
 * it. Not the OMS root digest (signing/model-manifest.ts `rootDigestOf`) on purpose: that one is fixed by the
 * Model Signing spec for interoperability and leaves names out of the digest itself.
 */
export async function hashFolderSha256(folder: string, signal?: AbortSignal): Promise<string> {
  let names: string[];
  try {
    names = (await readdir(folder, { withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) => entry.name).sort();
  } catch (error) {
    throw fileError(error, folder, "read");
  }
  const entries: [string, string][] = [];
  for (const name of names) entries.push([name, await hashFileSha256(join(folder, name), signal)]);
  return hashSha256(stableStringify(entries));
}

/** A file's sha256, or a folder artifact's (MLX, Hugging Face) `hashFolderSha256`. */
export async function hashPathSha256(path: string, signal?: AbortSignal): Promise<string> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch (error) {
    throw fileError(error, path, "read");
  }
  return isFolder ? hashFolderSha256(path, signal) : hashFileSha256(path, signal);
}
