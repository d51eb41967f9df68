import { stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { EdgeforgeError, fileError } from "../core/errors.js";
import type { Reporter } from "../core/logger.js";
import { detectModelFormat } from "../formats/detect-format.js";
import { hfConvertGgufOptionsSchema, hfConvertGgufPass, type GgufOuttype } from "../passes/hf/hf-convert-gguf-pass.js";
import { mlxExportOptionsSchema, mlxExportPass } from "../passes/mlx/mlx-export-pass.js";
import type { PassResult } from "../passes/pass.js";

export interface ConvertModelOptions {
  to: "gguf" | "mlx";
  /** Output file (gguf) or folder (mlx); default beside the input. */
  output?: string;
  /** GGUF: F32, F16 (default), BF16 or Q8_0. */
  outtype?: GgufOuttype;
  /** general.name of the GGUF. */
  name?: string;
  /** MLX: 4 (default) or 8. */
  bits?: number;
  /** MLX: 32, 64 (default) or 128. */
  groupSize?: number;
  /** MLX: dtype of scales, biases and unquantized tensors. */
  dtype?: "F16" | "BF16" | "F32";
}

function parseOptions<T>(schema: { safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } } }, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new EdgeforgeError("INVALID_OPTION", `invalid convert option ${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`, {
    hint: "see `edgeforge convert --help`",
    details: { issues: parsed.error.issues },
  });
}

/**
 * Convert a Hugging Face llama/mistral/qwen2 folder to GGUF (F32/F16/BF16/Q8_0), or a HF folder
 * or F16/F32 GGUF to an MLX folder (affine 4/8-bit quantization). Outputs are written atomically.
 */
export async function convertModel(inputPath: string, options: ConvertModelOptions, reporter: Reporter = {}): Promise<PassResult> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(inputPath)).isDirectory();
  } catch (error) {
    throw fileError(error, inputPath, "read");
  }
  const artifact = { format: "safetensors" as const, path: inputPath, files: [inputPath], sizeBytes: 0, lineage: [] };
  const context = { ...reporter, workDir: dirname(resolve(inputPath)) };
  if (options.to === "gguf") {
    if (!isFolder) {
      throw new EdgeforgeError("INVALID_OPTION", `${inputPath} is a file; --to gguf converts a Hugging Face model folder`, { hint: "pass the folder holding config.json and *.safetensors" });
    }
    const parsed = parseOptions(hfConvertGgufOptionsSchema, { outtype: options.outtype, name: options.name });
    const output = options.output ?? join(dirname(resolve(inputPath)), hfConvertGgufPass.defaultOutputName(inputPath, parsed));
    return hfConvertGgufPass.run(artifact, output, parsed, context);
  }
  if (options.to === "mlx") {
    const parsed = parseOptions(mlxExportOptionsSchema, { bits: options.bits, groupSize: options.groupSize, dtype: options.dtype });
    const format = isFolder ? "safetensors" : (await detectModelFormat(inputPath)).format;
    if (format !== "gguf" && format !== "safetensors") {
      throw new EdgeforgeError("UNKNOWN_FORMAT", `${inputPath} is ${format}; MLX export reads Hugging Face folders and GGUF files`, { hint: "pass a HF folder or an F16/F32 .gguf" });
    }
    const output = options.output ?? join(dirname(resolve(inputPath)), mlxExportPass.defaultOutputName(inputPath, parsed));
    return mlxExportPass.run({ ...artifact, format }, output, parsed, context);
  }
  throw new EdgeforgeError("INVALID_OPTION", `unknown conversion target "${String(options.to)}"`, { hint: "use --to gguf or --to mlx" });
}
