import { basename, extname } from "node:path";
import { z } from "zod";
import type { Artifact } from "../../core/artifact.js";
import { EdgeforgeError } from "../../core/errors.js";
import { readGgufHeader } from "../../formats/gguf/read-gguf.js";
import { llamaQuantizeTypeNames } from "../../toolchain/llama-quantize/llama-quantize-types.js";
import { quantizeGgufWithLlamaCpp, resolveLlamaQuantizeType } from "../../toolchain/llama-quantize/quantize-gguf-file.js";
import type { Pass, PassContext, PassResult } from "../pass.js";
import { describeQuantizeFallbacks } from "./describe-quantize-fallbacks.js";
import { checkGgufOutput } from "./check-gguf-output.js";
import { ggufArtifact } from "./gguf-artifact.js";
import { ggufVocabularySize } from "../../formats/gguf/gguf-metadata.js";

const tensorTypeSchema = z.object({
  pattern: z.string().min(1).describe("regular expression matched against tensor names, e.g. ffn_down"),
  type: z.string().min(1).describe("ggml type, e.g. Q8_0"),
});

export const ggufQuantizeOptionsSchema = z.object({
  method: z
    .string()
    .default("Q4_K_M")
    .describe(`llama-quantize file type: ${llamaQuantizeTypeNames.join(", ")}`),
  threads: z.number().int().positive().optional().describe("quantization threads (default: all hardware threads)"),
  leaveOutputTensor: z.boolean().default(false).describe("keep output.weight unquantized (llama-quantize --leave-output-tensor)"),
  allowRequantize: z.boolean().default(false).describe("allow quantizing already-quantized tensors (quality suffers)"),
  pure: z.boolean().default(false).describe("one type for every tensor, no k-quant mixes (--pure)"),
  outputTensorType: z.string().optional().describe("ggml type for output.weight"),
  tokenEmbeddingType: z.string().optional().describe("ggml type for token_embd.weight"),
  tensorTypes: z.array(tensorTypeSchema).default([]).describe("per-tensor type overrides, first match wins (--tensor-type PATTERN=TYPE)"),
  imatrix: z.string().optional().describe("importance-matrix file from llama-imatrix (.gguf or legacy .dat); required by IQ1/IQ2/IQ3_XXS and Q2_K_S"),
});

export type GgufQuantizeOptions = z.output<typeof ggufQuantizeOptionsSchema>;

/** `PATTERN=TYPE` as llama-quantize's --tensor-type takes it. */
export function parseTensorTypeOverride(spec: string): { pattern: string; type: string } {
  const split = spec.lastIndexOf("=");
  if (split <= 0 || split === spec.length - 1) {
    throw new EdgeforgeError("INVALID_OPTION", `cannot parse tensor type override "${spec}"`, {
      hint: "write PATTERN=TYPE, e.g. --tensor-type ffn_down=q8_0",
      details: { spec },
    });
  }
  return { pattern: spec.slice(0, split), type: spec.slice(split + 1).toUpperCase() };
}

/** GGUF → GGUF with llama.cpp's own quantizer (llama_model_quantize in node-llama-cpp's libllama, in a child process). */
export const ggufQuantizePass: Pass<GgufQuantizeOptions> = {
  id: "gguf.quantize",
  version: "1",
  description: "llama.cpp quantization (llama_model_quantize): every llama-quantize file type, with importance matrix, tensor-type overrides and output-tensor options",
  inputFormat: "gguf",
  outputFormat: "gguf",
  optionsSchema: ggufQuantizeOptionsSchema,
  searchSpace: { method: ["Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q4_0"] },
  defaultOutputName(inputPath, options) {
    const stem = basename(inputPath, extname(inputPath)).replace(/[-_.](f32|f16|bf16)$/i, "");
    return `${stem}-${resolveLlamaQuantizeType(options.method).name}.gguf`;
  },
  async run(input: Artifact, outputPath: string, options: GgufQuantizeOptions, context: PassContext): Promise<PassResult> {
    const started = process.hrtime.bigint();
    if (input.format !== "gguf") {
      throw new EdgeforgeError("UNKNOWN_FORMAT", `${input.path} is ${input.format}, not GGUF`, {
        hint: "gguf.quantize takes a .gguf model; convert a Hugging Face folder first (edgeforge convert --to gguf)",
        details: { path: input.path, format: input.format },
      });
    }
    const result = await quantizeGgufWithLlamaCpp(
      input.path,
      outputPath,
      {
        type: options.method,
        threads: options.threads,
        leaveOutputTensor: options.leaveOutputTensor,
        allowRequantize: options.allowRequantize,
        pure: options.pure,
        outputTensorType: options.outputTensorType,
        tokenEmbeddingType: options.tokenEmbeddingType,
        tensorTypes: options.tensorTypes,
        imatrixPath: options.imatrix,
      },
      context,
    );
    const counts: Record<string, number> = { tensors: Object.values(result.tensorTypeCounts).reduce((sum, count) => sum + count, 0), imatrixEntries: result.imatrixEntries };
    for (const [type, count] of Object.entries(result.tensorTypeCounts)) counts[`tensors${type}`] = count;
    const header = await readGgufHeader(result.outputPath, { signal: context.signal });
    const fallbacks = describeQuantizeFallbacks(header.tensors, result.type.name);
    counts.fallbackTensors = fallbacks.tensorCount;
    const runNote = await checkGgufOutput(result.outputPath, ggufVocabularySize(header.metadata), context);
    return {
      artifact: await ggufArtifact(input, { path: result.outputPath, sizeBytes: result.sizeBytes }, { pass: ggufQuantizePass, options }, context.signal),
      log: {
        counts,
        notes: [`llama.cpp ${result.llamaCppRelease ?? "(unknown release)"} via ${basename(result.libllama)}; ${result.inputFileType ?? "?"} → ${result.type.name}`, ...(fallbacks.note ? [fallbacks.note] : []), runNote],
      },
      durationMs: Number(process.hrtime.bigint() - started) / 1e6,
    };
  },
};
