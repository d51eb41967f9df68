import { type Command, InvalidArgumentError, Option } from "commander";
import { convertModel } from "../../api/convert-model.js";
import { formatBytes, formatMs } from "../../core/units.js";
import { parsePositiveInt } from "../options.js";
import { createStderrProgress, printHuman, printJson, stderrLogger } from "../output.js";

interface ConvertFlags {
  to: "gguf" | "mlx";
  output?: string;
  outtype?: string;
  name?: string;
  vocabFrom?: string;
  tokenizer?: string;
  bits?: number;
  groupSize?: number;
  dtype?: string;
  json?: boolean;
}

function parseOuttype(value: string): string {
  const upper = value.toUpperCase();
  if (!["F32", "F16", "BF16", "Q8_0"].includes(upper)) throw new InvalidArgumentError("expected f32, f16, bf16 or q8_0");
  return upper;
}

export function registerConvertCommand(program: Command): void {
  program
    .command("convert")
    .description("Convert a Hugging Face llama/mistral/qwen2 folder or a llama2.c checkpoint to GGUF, or a HF folder / F16 GGUF to MLX (affine 4/8-bit)")
    .argument("<input>", "Hugging Face model folder (config.json, *.safetensors, tokenizer), a llama2.c .bin for --to gguf, or a .gguf for --to mlx")
    .addOption(new Option("--to <format>", "output format").choices(["gguf", "mlx"]).makeOptionMandatory())
    .option("-o, --output <path>", "output .gguf file or MLX folder (default: beside the input)")
    .option("--outtype <type>", "GGUF weight type: f32, f16, bf16 or q8_0 (norms stay f32; default f16, f32 from llama2.c)", parseOuttype)
    .option("--vocab-from <gguf>", "llama2.c: copy the tokenizer of this GGUF (same vocabulary size)")
    .option("--tokenizer <file>", "llama2.c: the checkpoint's tokenizer.bin")
    .option("--name <name>", "GGUF general.name (default: the folder name)")
    .option("--bits <n>", "MLX bits per weight: 4 or 8 (default 4)", parsePositiveInt)
    .option("--group-size <n>", "MLX weights per scale/bias: 32, 64 or 128 (default 64)", parsePositiveInt)
    .addOption(new Option("--dtype <type>", "MLX dtype of scales, biases and unquantized tensors (default: the source's, f16 or bf16)").choices(["F16", "BF16", "F32"]))
    .option("--json", "print the result (artifact, counts, notes) as JSON on stdout")
    .action(async (input: string, flags: ConvertFlags) => {
      const result = await convertModel(
        input,
        {
          to: flags.to,
          ...(flags.output ? { output: flags.output } : {}),
          ...(flags.outtype ? { outtype: flags.outtype as "F16" } : {}),
          ...(flags.vocabFrom ? { vocabFrom: flags.vocabFrom } : {}),
          ...(flags.tokenizer ? { tokenizer: flags.tokenizer } : {}),
          ...(flags.name ? { name: flags.name } : {}),
          ...(flags.bits === undefined ? {} : { bits: flags.bits }),
          ...(flags.groupSize === undefined ? {} : { groupSize: flags.groupSize }),
          ...(flags.dtype ? { dtype: flags.dtype as "F16" } : {}),
        },
        { logger: stderrLogger, progress: createStderrProgress() },
      );
      if (flags.json) {
        printJson({ schemaVersion: 1, to: flags.to, output: result.artifact, durationMs: result.durationMs, log: result.log });
        return;
      }
      const outtype = result.artifact.lineage.at(-1)?.options.outtype;
      const what = flags.to === "gguf" ? `GGUF ${typeof outtype === "string" ? outtype : ""}` : `MLX ${flags.bits ?? 4}-bit, group ${flags.groupSize ?? 64}`;
      printHuman(`${what}: wrote ${result.artifact.path} (${formatBytes(result.artifact.sizeBytes)}) in ${formatMs(result.durationMs)}`);
      for (const note of result.log.notes) printHuman(`  ${note}`);
    });
}
