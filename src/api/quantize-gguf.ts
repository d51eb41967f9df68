import { stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { z } from "zod";
import { fileError } from "../core/errors.js";
import { checkWritableFolder, sweepStaleTempFiles } from "../core/output-folder.js";
import { checkPassOptions } from "../passes/check-pass-options.js";
import type { Reporter } from "../core/logger.js";
import { ggufQuantizeOptionsSchema, ggufQuantizePass, parseTensorTypeOverride } from "../passes/gguf/gguf-quantize-pass.js";
import type { PassResult } from "../passes/pass.js";
import { checkLlmRunsInChild } from "../workflow/check-llm-runs.js";

export type QuantizeGgufOptions = z.input<typeof ggufQuantizeOptionsSchema>;
export { parseTensorTypeOverride };
export { llamaQuantizeTypes, type LlamaQuantizeType } from "../toolchain/llama-quantize/llama-quantize-types.js";

/**
 * Quantize a GGUF model with llama.cpp's own quantizer. `outputPath` defaults to
 * `<input stem>-<METHOD>.gguf` beside the input. The output is written atomically and checked
 * with the GGUF reader; nothing is written when anything fails.
 */
export async function quantizeGguf(inputPath: string, outputPath: string | undefined, options: QuantizeGgufOptions = {}, reporter: Reporter = {}): Promise<PassResult> {
  const parsed = checkPassOptions(ggufQuantizeOptionsSchema, options, "GGUF quantize", "see `edgeforge quantize --help`");
  let sizeBytes: number;
  try {
    sizeBytes = (await stat(inputPath)).size;
  } catch (error) {
    throw fileError(error, inputPath, "read");
  }
  const output = outputPath ?? join(dirname(inputPath), ggufQuantizePass.defaultOutputName(inputPath, parsed));
  await checkWritableFolder(dirname(resolve(output)));
  await sweepStaleTempFiles(dirname(resolve(output)));
  return ggufQuantizePass.run({ format: "gguf", path: inputPath, files: [inputPath], sizeBytes, lineage: [] }, output, parsed, { ...reporter, workDir: dirname(output), checkLlmRuns: checkLlmRunsInChild });
}
