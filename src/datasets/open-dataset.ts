import { stat } from "node:fs/promises";
import { join } from "node:path";
import { EdgeforgeError, fileError } from "../core/errors.js";
import { parseDatasetSpec, readDatasetSpec, readJsonFile, type DatasetSpec, type DatasetSpecInput } from "./dataset-spec.js";
import { hasExtension, imageExtensions, listFolder } from "./dataset-files.js";
import { openFolderDataset, type FolderDataset } from "./folder-dataset.js";
import { openJsonDataset } from "./json-dataset.js";
import { pathExists } from "../core/path-exists.js";

export interface OpenDatasetOptions {
  /** Fields that override the folder's dataset.json (e.g. from the CLI). */
  spec?: DatasetSpecInput;
  /** A JSON file holding a dataset spec, or just a preprocessing spec ({"width", "height", ...}). */
  specPath?: string;
  signal?: AbortSignal;
}

/**
 * Open evaluation or benchmark data by looking at what `path` is: a .json/.jsonl file of input
 * records, or a folder of images (needs a preprocessing spec) or .npy tensors. A folder may hold
 * `dataset.json` describing labels, classes and preprocessing.
 */
export async function openDataset(path: string, options: OpenDatasetOptions = {}): Promise<FolderDataset> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch (error) {
    throw fileError(error, path, "read");
  }
  const spec = await gatherSpec(path, isFolder, options);
  if (!isFolder) {
    if (!/\.jsonl?$/i.test(path)) {
      throw new EdgeforgeError("DATASET_INVALID", `${path} is not a dataset`, {
        hint: "pass a .json/.jsonl file of input records, or a folder of images or .npy files",
        details: { path },
      });
    }
    return openJsonDataset(path, { ...(spec.limit === undefined ? {} : { limit: spec.limit }), signal: options.signal });
  }
  const kind = spec.kind ?? (await detectFolderKind(path));
  if (kind === "json") {
    throw new EdgeforgeError("DATASET_INVALID", `${path}: kind "json" needs a .json or .jsonl file, not a folder`, {
      hint: "pass the JSON file itself",
    });
  }
  return openFolderDataset(path, spec, kind, options.signal);
}

async function gatherSpec(path: string, isFolder: boolean, options: OpenDatasetOptions): Promise<DatasetSpec> {
  let base: Record<string, unknown> = {};
  if (isFolder) {
    const specFile = join(path, "dataset.json");
    const exists = await pathExists(specFile);
    if (exists) base = { ...(await readDatasetSpec(specFile, options.signal)) };
  }
  if (options.specPath !== undefined) {
    const raw = await readJsonFile(options.specPath, options.signal);
    // A bare preprocessing spec is accepted too: it has width/height at the top level.
    const asSpec = typeof raw === "object" && raw !== null && "width" in raw ? { preprocess: raw } : raw;
    base = { ...base, ...(asSpec as Record<string, unknown>) };
  }
  return parseDatasetSpec({ ...base, ...(options.spec ?? {}) }, options.specPath ?? join(path, "dataset.json"));
}

async function detectFolderKind(folder: string): Promise<"images" | "npy"> {
  const counts = { images: 0, npy: 0 };
  const tally = (names: readonly string[]): void => {
    for (const name of names) {
      if (hasExtension(name, imageExtensions)) counts.images += 1;
      else if (name.toLowerCase().endsWith(".npy")) counts.npy += 1;
    }
  };
  const top = await listFolder(folder);
  tally(top.files);
  for (const sub of top.folders) tally((await listFolder(join(folder, sub))).files);
  if (counts.images === 0 && counts.npy === 0) {
    throw new EdgeforgeError("DATASET_INVALID", `${folder} holds no images and no .npy files`, {
      hint: "put images (one sub-folder per class) or .npy tensors in the folder",
      details: { folder },
    });
  }
  return counts.images >= counts.npy ? "images" : "npy";
}
