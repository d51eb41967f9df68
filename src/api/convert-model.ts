import { stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { EdgeforgeError, fileError } from "../core/errors.js";
import type { Reporter } from "../core/logger.js";
import { detectModelFormat } from "../formats/detect-format.js";
import { hfConvertGgufOptionsSchema, hfConvertGgufPass, type GgufOuttype } from "../passes/hf/hf-convert-gguf-pass.js";
import { llama2cConvertGgufOptionsSchema, llama2cConvertGgufPass } from "../passes/llama2c/llama2c-convert-gguf-pass.js";
import { mlxExportOptionsSchema, mlxExportPass } from "../passes/mlx/mlx-export-pass.js";
import type { PassResult } from "../passes/pass.js";
import { checkLlmRunsInChild } from "../workflow/check-llm-runs.js";

export interface ConvertModelOptions {
  to: "gguf" | "mlx";
  /** Output file (gguf) or folder (mlx); default beside the input. */
  output?: string;
  /** GGUF: F32, F16 (default), BF16 or Q8_0; from llama2.c: F32 (default) or F16. */
  outtype?: GgufOuttype;
  /** llama2.c → GGUF: copy the vocabulary of this GGUF (same vocabulary size). */
  vocabFrom?: string;
  /** llama2.c → GGUF: llama2.c's tokenizer.bin for the checkpoint. */
  tokenizer?: string;
  /** general.name of the GGUF. */
  name?: string;
  /** MLX: 4 (default) or 8. */
  bits?: number;
  /** MLX: 32, 64 (default) or 128. */
  groupSize?: number;
  /** MLX: dtype of scales, biases and unquantized tensors. */
  dtype?: "F16" | "BF16" | "F32";
}

/** What `convert` turns into what: the one list every "unsupported input" message quotes. */
export const conversionCatalog = Object.freeze([
  { to: "gguf", from: "a Hugging Face llama/mistral/qwen2 folder (config.json + *.safetensors + tokenizer)" },
  { to: "gguf", from: "a llama2.c checkpoint (.bin, with --vocab-from or --tokenizer)" },
  { to: "mlx", from: "a Hugging Face folder, or an F16/F32 .gguf file" },
] as const);

function unsupportedInput(inputPath: string, what: string, to: string): EdgeforgeError {
  const routes = conversionCatalog.map((route) => `--to ${route.to} from ${route.from}`).join("; ");
  return new EdgeforgeError("UNKNOWN_FORMAT", `${inputPath} is ${what}, which convert --to ${to} does not read`, {
    hint: `convert supports: ${routes}`,
    details: { path: inputPath, to, supported: conversionCatalog },
  });
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

/** "a GGUF file", "an ONNX file" or "a file of unrecognised format". */
async function describeFile(path: string): Promise<string> {
  const detected = await detectModelFormat(path).catch(() => undefined);
  if (!detected) return "a file of unrecognised format";
  return `${/^[aeiou]/i.test(detected.format) ? "an" : "a"} ${detected.format.toUpperCase()} file`;
}

/**
 * Convert a Hugging Face llama/mistral/qwen2 folder to GGUF (F32/F16/BF16/Q8_0), a llama2.c
 * checkpoint to GGUF (F32/F16, with a tokenizer from a GGUF or a tokenizer.bin), or a HF folder
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
  const context = { ...reporter, workDir: dirname(resolve(inputPath)), checkLlmRuns: checkLlmRunsInChild };
  if (options.to === "gguf") {
    if (!isFolder) {
      const { format } = await detectModelFormat(inputPath);
      if (format !== "llama2c") {
        throw unsupportedInput(inputPath, await describeFile(inputPath), "gguf");
      }
      const parsed = parseOptions(llama2cConvertGgufOptionsSchema, { vocabFrom: options.vocabFrom, tokenizer: options.tokenizer, outtype: options.outtype, name: options.name });
      const output = options.output ?? join(dirname(resolve(inputPath)), llama2cConvertGgufPass.defaultOutputName(inputPath, parsed));
      return llama2cConvertGgufPass.run({ ...artifact, format: "llama2c" }, output, parsed, context);
    }
    if (options.vocabFrom !== undefined || options.tokenizer !== undefined) {
      throw new EdgeforgeError("INVALID_OPTION", "--vocab-from and --tokenizer apply to llama2.c checkpoints; a Hugging Face folder carries its own tokenizer", { hint: "drop the option" });
    }
    const parsed = parseOptions(hfConvertGgufOptionsSchema, { outtype: options.outtype, name: options.name });
    const output = options.output ?? join(dirname(resolve(inputPath)), hfConvertGgufPass.defaultOutputName(inputPath, parsed));
    return hfConvertGgufPass.run(artifact, output, parsed, context);
  }
  if (options.to === "mlx") {
    const parsed = parseOptions(mlxExportOptionsSchema, { bits: options.bits, groupSize: options.groupSize, dtype: options.dtype });
    const format = isFolder ? "safetensors" : (await detectModelFormat(inputPath)).format;
    if (format !== "gguf" && format !== "safetensors") throw unsupportedInput(inputPath, await describeFile(inputPath), "mlx");
    const output = options.output ?? join(dirname(resolve(inputPath)), mlxExportPass.defaultOutputName(inputPath, parsed));
    return mlxExportPass.run({ ...artifact, format }, output, parsed, context);
  }
  throw new EdgeforgeError("INVALID_OPTION", `unknown conversion target "${String(options.to)}"`, { hint: "use --to gguf or --to mlx" });
}
