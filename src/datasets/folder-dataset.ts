import { basename, extname, join } from "node:path";
import { EdgeforgeError } from "../core/errors.js";
import { hashFileSha256, hashSha256, stableStringify } from "../core/hashing.js";
import type { NamedTensors, Tensor } from "../core/tensor.js";
import type { Dataset, DatasetSample } from "./dataset.js";
import type { DatasetSpec } from "./dataset-spec.js";
import {
  allNumeric,
  classLabel,
  hasExtension,
  imageExtensions,
  listFolder,
  manifestPath,
  readManifest,
  resolveClassNames,
  resolveInside,
} from "./dataset-files.js";
import { readNpy } from "./npy.js";
import { loadImageTensor } from "./preprocess-image.js";

/** The input name a single-tensor sample carries when the spec names none; bindings map it to the model's input. */
export const defaultInputName = "input";

interface PlannedSample {
  id: string;
  files: Record<string, string>;
  label?: number | string;
}

/** A dataset read from a folder, with its class names when labels are classes. */
export interface FolderDataset extends Dataset {
  classNames?: string[];
}

const npyExtensions = new Set([".npy"]);

/**
 * Images (with a preprocessing spec) or .npy tensors in a folder. Layouts: a manifest of
 * {file|files, label}; one sub-folder per class; a flat folder of unlabelled files; and, for
 * .npy only, one sub-folder per sample holding `<input>.npy` files.
 */
export async function openFolderDataset(folder: string, spec: DatasetSpec, kind: "images" | "npy", signal?: AbortSignal): Promise<FolderDataset> {
  if (kind === "images" && spec.preprocess === undefined) {
    throw new EdgeforgeError("DATASET_INVALID", `${folder} holds images but no preprocessing spec was given`, {
      hint: 'add dataset.json with "preprocess": {"width", "height", "layout", "mean", "std", ...}, or pass one with --preprocess',
      details: { folder },
    });
  }
  const extensions = kind === "images" ? imageExtensions : npyExtensions;
  const inputName = spec.inputName ?? defaultInputName;
  const { planned, classNames } = await planSamples(folder, spec, kind, extensions, inputName, signal);
  const limited = spec.limit === undefined ? planned : planned.slice(0, spec.limit);
  if (limited.length === 0) {
    throw new EdgeforgeError("DATASET_INVALID", `${folder} has no ${kind === "images" ? "images" : ".npy files"}`, {
      hint: kind === "images" ? `put ${[...imageExtensions].join("/")} files in it (one sub-folder per class for labels)` : "put .npy files in it",
      details: { folder },
    });
  }
  let fingerprint: Promise<string> | undefined;
  const load = async (path: string): Promise<Tensor> =>
    kind === "images" && spec.preprocess ? loadImageTensor(path, spec.preprocess) : readNpy(path, signal);
  return {
    source: folder,
    size: limited.length,
    ...(classNames ? { classNames } : {}),
    async *samples(sampleSignal?: AbortSignal): AsyncIterable<DatasetSample> {
      for (const entry of limited) {
        sampleSignal?.throwIfAborted();
        const inputs: NamedTensors = {};
        for (const [name, path] of Object.entries(entry.files)) inputs[name] = await load(path);
        yield { id: entry.id, inputs, ...(entry.label === undefined ? {} : { label: entry.label }) };
      }
    },
    fingerprint(fingerprintSignal?: AbortSignal) {
      // An aborted or failed hash is not kept: the next call starts again.
      fingerprint ??= fingerprintFolder(spec, kind, limited, classNames, fingerprintSignal).catch((error: unknown) => {
        fingerprint = undefined;
        throw error;
      });
      return fingerprint;
    },
  };
}

/** The files' hashes with ids and labels, not their paths: the same files in another folder are the same data. */
async function fingerprintFolder(
  spec: DatasetSpec,
  kind: "images" | "npy",
  samples: readonly PlannedSample[],
  classNames: string[] | undefined,
  signal?: AbortSignal,
): Promise<string> {
  const hashed = [];
  for (const sample of samples) {
    const files: Record<string, string> = {};
    for (const [name, path] of Object.entries(sample.files)) files[name] = await hashFileSha256(path, signal);
    hashed.push({ id: sample.id, label: sample.label, files });
  }
  return hashSha256(stableStringify({ kind, spec, classNames, samples: hashed }));
}

async function planSamples(
  folder: string,
  spec: DatasetSpec,
  kind: "images" | "npy",
  extensions: ReadonlySet<string>,
  inputName: string,
  signal?: AbortSignal,
): Promise<{ planned: PlannedSample[]; classNames?: string[] }> {
  const listing = await listFolder(folder);
  const useManifest = spec.labels === "manifest" || spec.manifest !== undefined;
  if (useManifest) {
    const entries = await readManifest(manifestPath(folder, spec, "manifest.jsonl"), signal);
    const classNames = spec.classes === undefined ? undefined : await resolveClassNames(folder, spec, []);
    const planned = entries.map((entry, index): PlannedSample => {
      const files = entry.files ?? { [inputName]: entry.file as string };
      const resolved = Object.fromEntries(Object.entries(files).map(([name, path]) => [name, resolveInside(folder, path)]));
      let label = entry.label;
      if (typeof label === "string" && classNames?.includes(label)) label = classNames.indexOf(label);
      return { id: entry.id ?? entry.file ?? `sample-${index}`, files: resolved, ...(label === undefined ? {} : { label }) };
    });
    return { planned, ...(classNames ? { classNames } : {}) };
  }
  const classFolders: string[] = [];
  for (const name of listing.folders) {
    const inner = await listFolder(join(folder, name));
    if (inner.files.some((file) => hasExtension(file, extensions))) classFolders.push(name);
  }
  const byFolders = spec.labels === "folders" || (spec.labels === undefined && kind === "images" && classFolders.length > 0);
  if (byFolders) {
    const classNames = await resolveClassNames(folder, spec, classFolders);
    const numeric = spec.classes === undefined && allNumeric(classFolders);
    const planned: PlannedSample[] = [];
    for (const name of classFolders) {
      const label = classLabel(name, classNames, numeric);
      const inner = await listFolder(join(folder, name));
      for (const file of inner.files.filter((f) => hasExtension(f, extensions))) {
        planned.push({ id: `${name}/${file}`, files: { [inputName]: join(folder, name, file) }, label });
      }
    }
    return { planned, classNames };
  }
  if (kind === "npy" && classFolders.length > 0 && !listing.files.some((file) => hasExtension(file, extensions))) {
    // One sub-folder per sample: <sample>/<input name>.npy.
    const planned: PlannedSample[] = [];
    for (const name of classFolders) {
      const inner = await listFolder(join(folder, name));
      const files = Object.fromEntries(
        inner.files.filter((f) => hasExtension(f, extensions)).map((f) => [basename(f, extname(f)), join(folder, name, f)]),
      );
      planned.push({ id: name, files });
    }
    return { planned };
  }
  const planned = listing.files
    .filter((file) => hasExtension(file, extensions))
    .map((file): PlannedSample => ({ id: file, files: { [inputName]: join(folder, file) } }));
  return { planned };
}
