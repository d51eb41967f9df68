import { createReadStream } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { extname, isAbsolute, join, relative, resolve } from "node:path";
import { createInterface } from "node:readline";
import { z } from "zod";
import { EdgeforgeError, fileError } from "../core/errors.js";
import { manifestEntrySchema, type DatasetSpec, type ManifestEntry } from "./dataset-spec.js";

export const imageExtensions = new Set([".png", ".jpg", ".jpeg", ".webp", ".gif", ".tif", ".tiff", ".avif"]);

export interface FolderListing {
  files: string[];
  folders: string[];
}

/** Names in a folder, sorted, hidden entries skipped. */
export async function listFolder(folder: string): Promise<FolderListing> {
  try {
    const entries = await readdir(folder, { withFileTypes: true });
    const visible = entries.filter((entry) => !entry.name.startsWith("."));
    const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
    return {
      files: visible.filter((entry) => entry.isFile()).map((entry) => entry.name).sort(byName),
      folders: visible.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort(byName),
    };
  } catch (error) {
    throw fileError(error, folder, "read");
  }
}

export function hasExtension(name: string, extensions: ReadonlySet<string>): boolean {
  return extensions.has(extname(name).toLowerCase());
}

/** A path named inside a dataset must stay inside its folder. */
export function resolveInside(folder: string, path: string): string {
  const full = resolve(folder, path);
  const rel = relative(folder, full);
  if (rel.startsWith("..") || isAbsolute(rel)) {
    throw new EdgeforgeError("UNSAFE_PATH", `dataset entry ${path} points outside ${folder}`, {
      hint: "manifest paths are relative to the dataset folder and must stay inside it",
      details: { folder, path },
    });
  }
  return full;
}

/** Class names in index order: from the spec (a list or a text file), else the folder names. */
export async function resolveClassNames(folder: string, spec: DatasetSpec, folderNames: readonly string[]): Promise<string[]> {
  if (Array.isArray(spec.classes)) return spec.classes;
  if (typeof spec.classes === "string") {
    const path = resolveInside(folder, spec.classes);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      throw fileError(error, path, "read");
    }
    return text.split(/\r?\n/).filter((line) => line.length > 0);
  }
  return [...folderNames];
}

/**
 * Label index for a class folder: its position in the class list, or its own number when every
 * folder is named by a non-negative integer (MNIST-style "0".."9").
 */
export function classLabel(name: string, classNames: readonly string[], numericFolders: boolean): number {
  if (numericFolders) return Number(name);
  const index = classNames.indexOf(name);
  if (index < 0) {
    throw new EdgeforgeError("DATASET_INVALID", `class folder "${name}" is not in the class list`, {
      hint: "add it to dataset.json's classes, or remove the folder",
      details: { name, classNames },
    });
  }
  return index;
}

export function allNumeric(names: readonly string[]): boolean {
  return names.length > 0 && names.every((name) => /^\d+$/.test(name));
}

/** Read a manifest: JSON Lines (one entry per line) or a JSON array of entries. */
export async function readManifest(path: string, signal?: AbortSignal): Promise<ManifestEntry[]> {
  const entries: unknown[] = [];
  try {
    if (path.toLowerCase().endsWith(".json")) {
      const parsed = JSON.parse(await readFile(path, { encoding: "utf8", signal })) as unknown;
      if (!Array.isArray(parsed)) throw new SyntaxError("expected a JSON array of entries");
      entries.push(...parsed);
    } else {
      const lines = createInterface({ input: createReadStream(path, { encoding: "utf8", signal }), crlfDelay: Infinity });
      for await (const line of lines) if (line.trim().length > 0) entries.push(JSON.parse(line));
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== undefined) throw fileError(error, path, "read");
    throw new EdgeforgeError("DATASET_INVALID", `manifest ${path} is not valid JSON: ${(error as Error).message}`, {
      hint: 'write one {"file": "...", "label": ...} object per line',
      details: { path },
      cause: error,
    });
  }
  return entries.map((entry, index) => {
    const parsed = manifestEntrySchema.safeParse(entry);
    if (!parsed.success) {
      throw new EdgeforgeError("DATASET_INVALID", `manifest ${path} entry ${index + 1}: ${z.prettifyError(parsed.error)}`, {
        hint: 'each entry is {"file": "img.png", "label": 3} or {"files": {"input": "a.npy"}, "label": "text"}',
        details: { path, index },
      });
    }
    return parsed.data;
  });
}

export function manifestPath(folder: string, spec: DatasetSpec, defaultName: string): string {
  return join(folder, spec.manifest ?? defaultName);
}
