import { basename, dirname, extname, join } from "node:path";
import { z } from "zod";

/** Option pieces every ONNX pass shares, so they read the same in CLI help and docs. */

export const externalDataOption = z
  .enum(["auto", "always", "never"])
  .default("auto")
  .describe("weights in a <output>.data file: auto = when the input had external data or the model exceeds ~1.8 GB");

export const excludeNodesOption = z
  .array(z.string())
  .default([])
  .describe("node names to leave as they are (an unnamed node is named by its first output)");

export const excludeOpTypesOption = z.array(z.string()).default([]).describe("op types to leave as they are");

/** `dir/model.onnx` + `_int8` → `model_int8.onnx` (the suffixes transformers.js users know). */
export function suffixedOutputName(inputPath: string, suffix: string): string {
  const name = basename(inputPath, extname(inputPath));
  return `${name}${suffix}.onnx`;
}

/** Default output path beside the input: `dir/model_int8.onnx`. */
export function suffixedOutputPath(inputPath: string, suffix: string): string {
  return join(dirname(inputPath), suffixedOutputName(inputPath, suffix));
}
