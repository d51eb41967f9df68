import { readFile } from "node:fs/promises";
import { z } from "zod";
import { EdgeforgeError, fileError } from "../core/errors.js";

/**
 * How raw images become a model input: resize, channel order, layout, scaling and
 * normalisation. value = (pixel / scale − mean[c]) / std[c].
 */
export const preprocessSpecSchema = z
  .object({
    width: z.number().int().positive().describe("output width in pixels"),
    height: z.number().int().positive().describe("output height in pixels"),
    fit: z.enum(["fill", "contain", "cover"]).default("fill").describe("how the image is fitted (sharp's resize fit)"),
    position: z
      .enum(["centre", "top", "right top", "right", "right bottom", "bottom", "left bottom", "left", "left top"])
      .default("centre")
      .describe("where the image sits when fit is contain or cover"),
    background: z.array(z.number().int().min(0).max(255)).length(3).default([0, 0, 0]).describe("padding colour for contain"),
    channels: z.enum(["rgb", "bgr", "gray"]).default("rgb"),
    layout: z.enum(["nchw", "nhwc", "chw", "hwc"]).default("nchw").describe("n = a leading batch dimension of 1"),
    dtype: z.enum(["float32", "uint8"]).default("float32"),
    scale: z.number().positive().default(255).describe("pixels are divided by this before mean/std (float32 only)"),
    mean: z.array(z.number()).min(1).optional(),
    std: z.array(z.number().positive()).min(1).optional(),
  })
  .strict();

export type PreprocessSpec = z.infer<typeof preprocessSpecSchema>;

/** One line of a manifest: a file (or named files, one per input) and its label. */
export const manifestEntrySchema = z
  .object({
    id: z.string().optional(),
    file: z.string().optional(),
    files: z.record(z.string(), z.string()).optional(),
    label: z.union([z.number().int(), z.string()]).optional(),
  })
  .strict()
  .refine((entry) => (entry.file === undefined) !== (entry.files === undefined), { message: "give exactly one of file or files" });

export type ManifestEntry = z.infer<typeof manifestEntrySchema>;

/** `dataset.json` in a dataset folder (or passed explicitly); every field is optional. */
export const datasetSpecSchema = z
  .object({
    schemaVersion: z.literal(1).default(1),
    kind: z.enum(["images", "npy", "json"]).optional(),
    inputName: z.string().min(1).optional().describe("the model input the data feeds; default: the model's only input"),
    labels: z.enum(["folders", "manifest", "none"]).optional(),
    manifest: z.string().optional().describe("a .jsonl (or .json array) of {file|files, label} relative to the folder"),
    classes: z.union([z.array(z.string()).min(1), z.string()]).optional().describe("class names in index order, or a text file of them"),
    preprocess: preprocessSpecSchema.optional(),
    limit: z.number().int().positive().optional(),
  })
  .strict();

export type DatasetSpec = z.infer<typeof datasetSpecSchema>;
export type DatasetSpecInput = z.input<typeof datasetSpecSchema>;

export function parseDatasetSpec(value: unknown, source: string): DatasetSpec {
  const parsed = datasetSpecSchema.safeParse(value);
  if (!parsed.success) {
    throw new EdgeforgeError("INVALID_CONFIG", `${source} is not a valid dataset spec: ${z.prettifyError(parsed.error)}`, {
      hint: "see docs/measure.md (Datasets) for the fields of dataset.json",
      details: { source, issues: parsed.error.issues },
    });
  }
  return parsed.data;
}

export async function readJsonFile(path: string, signal?: AbortSignal): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, { encoding: "utf8", signal });
  } catch (error) {
    throw fileError(error, path, "read");
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new EdgeforgeError("INVALID_CONFIG", `${path} is not valid JSON: ${(error as Error).message}`, {
      hint: "fix the JSON syntax",
      details: { path },
      cause: error,
    });
  }
}

export async function readDatasetSpec(path: string, signal?: AbortSignal): Promise<DatasetSpec> {
  return parseDatasetSpec(await readJsonFile(path, signal), path);
}
