import { stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { z } from "zod";
import { EdgeforgeError, fileError } from "../core/errors.js";
import type { Reporter } from "../core/logger.js";
import { ggufQuantizeOptionsSchema, ggufQuantizePass, parseTensorTypeOverride } from "../passes/gguf/gguf-quantize-pass.js";
import type { PassResult } from "../passes/pass.js";

export type QuantizeGgufOptions = z.input<typeof ggufQuantizeOptionsSchema>;
export { parseTensorTypeOverride };
export { llamaQuantizeTypes, type LlamaQuantizeType } from "../toolchain/llama-quantize/llama-quantize-types.js";

/**
 * Quantize a GGUF model with llama.cpp's own quantizer. `outputPath` defaults to
 * `<input stem>-<METHOD>.gguf` beside the input. The output is written atomically and checked
 * with the GGUF reader; nothing is written when anything fails.
 */
export async function quantizeGguf(inputPath: string, outputPath: string | undefined, options: QuantizeGgufOptions = {}, reporter: Reporter = {}): Promise<PassResult> {
  const parsed = ggufQuantizeOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EdgeforgeError("INVALID_OPTION", `invalid quantize option ${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`, {
      hint: "see `edgeforge quantize --help`",
      details: { issues: parsed.error.issues },
    });
  }
  let sizeBytes: number;
  try {
    sizeBytes = (await stat(inputPath)).size;
  } catch (error) {
    throw fileError(error, inputPath, "read");
  }
  const output = outputPath ?? join(dirname(inputPath), ggufQuantizePass.defaultOutputName(inputPath, parsed.data));
  return ggufQuantizePass.run({ format: "gguf", path: inputPath, files: [inputPath], sizeBytes, lineage: [] }, output, parsed.data, { ...reporter, workDir: dirname(output) });
}
