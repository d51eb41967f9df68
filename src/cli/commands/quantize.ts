import { type Command, InvalidArgumentError, Option } from "commander";
import { detectModelFormat } from "../../formats/detect-format.js";
import { formatBytes, formatMs } from "../../core/units.js";
import { EdgeforgeError } from "../../core/errors.js";
import { isOnnxQuantizeMethod, onnxQuantizeMethods, quantize, type QuantizeReport } from "../../api/quantize.js";
import { parseTensorTypeOverride, quantizeGguf, type QuantizeGgufOptions } from "../../api/quantize-gguf.js";
import { collect, parsePositiveInt } from "../options.js";
import { createStderrProgress, printHuman, printJson, stderrLogger } from "../output.js";
import type { PassResult } from "../../passes/pass.js";

interface QuantizeFlags {
  method: string;
  output?: string;
  calibration?: string;
  evaluation?: string;
  preprocess?: string;
  limit?: number;
  perChannel?: boolean;
  blockSize?: number;
  algorithm?: string;
  asymmetric?: boolean;
  accuracyLevel?: number;
  exclude: string[];
  excludeOp: string[];
  opTypes?: string;
  maxDrop?: number;
  dropKind?: string;
  metric?: string;
  calibrationMethod?: string;
  percentile?: number;
  weightType?: string;
  activationType?: string;
  fp16Io?: boolean;
  externalData?: string;
  threads?: number;
  imatrix?: string;
  leaveOutputTensor?: boolean;
  allowRequantize?: boolean;
  pure?: boolean;
  outputTensorType?: string;
  tokenEmbeddingType?: string;
  tensorType: string[];
  json?: boolean;
}

/** The GGUF-only flags, as llama-quantize spells them, mapped onto the gguf.quantize pass options. */
function ggufOptionsFrom(flags: QuantizeFlags): QuantizeGgufOptions {
  return {
    method: flags.method,
    ...(flags.threads === undefined ? {} : { threads: flags.threads }),
    ...(flags.imatrix ? { imatrix: flags.imatrix } : {}),
    ...(flags.leaveOutputTensor ? { leaveOutputTensor: true } : {}),
    ...(flags.allowRequantize ? { allowRequantize: true } : {}),
    ...(flags.pure ? { pure: true } : {}),
    ...(flags.outputTensorType ? { outputTensorType: flags.outputTensorType } : {}),
    ...(flags.tokenEmbeddingType ? { tokenEmbeddingType: flags.tokenEmbeddingType } : {}),
    ...(flags.tensorType.length > 0 ? { tensorTypes: flags.tensorType.map(parseTensorTypeOverride) } : {}),
  };
}

/** "0.01", "1%" → 0.01. */
function parseDrop(value: string): number {
  const percent = value.trim().endsWith("%");
  const number = Number(percent ? value.trim().slice(0, -1) : value);
  if (!Number.isFinite(number) || number < 0) throw new InvalidArgumentError("expected a non-negative number or percentage (0.01 or 1%)");
  return percent ? number / 100 : number;
}

function parseNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number)) throw new InvalidArgumentError("expected a number");
  return number;
}

function splitList(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "");
}

/** Flags → the method's pass options; the pass schema (in the API) rejects flags that do not apply. */
function passOptionsFrom(flags: QuantizeFlags): Record<string, unknown> {
  const method = flags.method;
  const options: Record<string, unknown> = {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined) options[key] = value;
  };
  set("perChannel", flags.perChannel);
  set("blockSize", flags.blockSize);
  set("method", flags.algorithm);
  set("symmetric", flags.asymmetric === undefined ? undefined : !flags.asymmetric);
  set("accuracyLevel", flags.accuracyLevel);
  set("maxDrop", flags.maxDrop);
  set("dropKind", flags.dropKind);
  set("metric", flags.metric);
  set("calibrationMethod", flags.calibrationMethod);
  set("percentile", flags.percentile);
  set("weightType", flags.weightType);
  set("activationType", flags.activationType);
  set("externalData", flags.externalData);
  if (flags.fp16Io) options.keepIoTypes = false;
  if (flags.opTypes) options.opTypes = splitList([flags.opTypes]);
  if (flags.exclude.length > 0) options.excludeNodes = splitList(flags.exclude);
  if (flags.excludeOp.length > 0) options.excludeOpTypes = splitList(flags.excludeOp);
  if (method === "int4" && flags.threads !== undefined) options.threads = flags.threads;
  return options;
}

function renderSummary(report: QuantizeReport): string {
  const lines = [`${report.method}: wrote ${report.output.path} in ${formatMs(report.durationMs)}`];
  const { counts } = report.log;
  if (report.method === "fp16") {
    lines.push(`  tensors converted: ${counts.tensorsConverted ?? 0}, nodes kept float32: ${counts.nodesKeptFloat32 ?? 0}, casts inserted: ${counts.castsInserted ?? 0}`);
    if (counts.valuesClamped) lines.push(`  values clamped to ±65504: ${counts.valuesClamped}`);
  } else {
    lines.push(`  nodes quantized: ${report.nodesQuantized}, skipped: ${report.nodesSkipped}${counts.nodesKeptFloat ? `, kept float32 for accuracy: ${counts.nodesKeptFloat}` : ""}`);
  }
  const ratio = report.output.sizeBytes > 0 ? report.input.sizeBytes / report.output.sizeBytes : 0;
  lines.push(`  size: ${formatBytes(report.input.sizeBytes)} → ${formatBytes(report.output.sizeBytes)} (${ratio.toFixed(2)}× smaller)`);
  if (report.weightBytesBefore && report.weightBytesAfter) {
    lines.push(`  quantized weights: ${formatBytes(report.weightBytesBefore)} → ${formatBytes(report.weightBytesAfter)} (${(report.weightBytesBefore / report.weightBytesAfter).toFixed(2)}×)`);
  }
  for (const note of report.log.notes.slice(0, 20)) lines.push(`  ${note}`);
  if (report.log.notes.length > 20) lines.push(`  … ${report.log.notes.length - 20} more notes (--json has them all)`);
  return lines.join("\n");
}

/** The GGUF result as the ONNX one reads: size ratio, the tensor types written, and the pass's notes (the run check's among them). */
function renderGgufSummary(method: string, inputBytes: number, result: PassResult): string {
  const { artifact, log } = result;
  const ratio = artifact.sizeBytes > 0 ? inputBytes / artifact.sizeBytes : 0;
  const types = Object.entries(log.counts)
    .filter(([name]) => name.startsWith("tensors") && name !== "tensors")
    .sort(([, a], [, b]) => b - a)
    .map(([name, count]) => `${name.slice("tensors".length)} ${count}`);
  return [
    `${method}: wrote ${artifact.path} in ${formatMs(result.durationMs)}`,
    `  size: ${formatBytes(inputBytes)} → ${formatBytes(artifact.sizeBytes)} (${ratio.toFixed(2)}× smaller)`,
    `  tensors: ${log.counts.tensors ?? 0} (${types.join(", ")}); ${log.counts.fallbackTensors ?? 0} fell back to another type`,
    ...log.notes.map((note) => `  ${note}`),
  ].join("\n");
}

export function registerQuantizeCommand(program: Command): void {
  program
    .command("quantize")
    .description("Quantize a model: ONNX to fp16, int8 (dynamic, static QDQ, accuracy-aware auto) or int4; GGUF with llama.cpp types")
    .argument("<model>", "an .onnx or .gguf model")
    .requiredOption("--method <method>", `ONNX: ${Object.keys(onnxQuantizeMethods).join(" | ")}; GGUF: a llama.cpp type such as Q4_K_M`)
    .option("-o, --output <path>", "output file (default: <model>_fp16/_int8/_q4.onnx beside the input)")
    .option("--calibration <data>", "calibration data: image folder (+ --preprocess), .npy folder, or .json/.jsonl (int8-static, auto, int4 gptq)")
    .option("--evaluation <data>", "evaluation data for auto (default: the calibration data)")
    .option("--preprocess <file>", "dataset spec or image preprocessing spec (JSON) for the data folders")
    .option("--limit <n>", "use at most N samples of the data", parsePositiveInt)
    .option("--per-channel", "one weight scale per output channel (int8)")
    .option("--no-per-channel", "one weight scale per tensor (int8)")
    .option("--block-size <n>", "int4 block size: 16, 32, 64 or 128", parsePositiveInt)
    .addOption(new Option("--algorithm <name>", "int4 rounding: rtn, hqq (data-free) or gptq (uses --calibration)").choices(["rtn", "hqq", "gptq"]))
    .option("--asymmetric", "int4 blocks with zero points")
    .option("--accuracy-level <n>", "int4 MatMulNBits accuracy_level (0-4; 4 = int8 compute)", parseNumber)
    .option("--exclude <names>", "node names to leave unquantized (repeatable, comma-separated)", collect, [])
    .option("--exclude-op <types>", "op types to leave unquantized (int8-static, auto)", collect, [])
    .option("--op-types <list>", "op types to quantize, comma-separated (int8-dynamic: MatMul,Gemm,LSTM,Conv)")
    .option("--max-drop <x>", "auto: largest acceptable drop, e.g. 0.01 or 1%", parseDrop)
    .addOption(new Option("--drop-kind <kind>", "auto: absolute points or relative share").choices(["absolute", "relative"]))
    .addOption(new Option("--metric <metric>", "auto: what the drop is measured on").choices(["auto", "accuracy", "top1-agreement", "cosine"]))
    .addOption(new Option("--calibration-method <method>", "activation ranges: minmax, percentile or entropy").choices(["minmax", "percentile", "entropy"]))
    .option("--percentile <p>", "percentile calibration: share of values kept (default 99.999)", parseNumber)
    .addOption(new Option("--weight-type <type>", "int8-dynamic weights").choices(["int8", "uint8"]))
    .addOption(new Option("--activation-type <type>", "int8-static activations (auto: uint8 on x86, int8 on ARM)").choices(["auto", "uint8", "int8"]))
    .option("--fp16-io", "fp16: make model inputs and outputs float16 too")
    .addOption(new Option("--external-data <mode>", "weights in a .data file").choices(["auto", "always", "never"]))
    .option("--threads <n>", "threads for calibration runs and int4 workers; GGUF: quantization threads", parsePositiveInt)
    .option("--imatrix <file>", "GGUF: importance matrix from llama-imatrix (.gguf or .dat)")
    .option("--leave-output-tensor", "GGUF: keep output.weight unquantized")
    .option("--allow-requantize", "GGUF: allow quantizing already-quantized tensors")
    .option("--pure", "GGUF: one type for every tensor (no k-quant mixes)")
    .option("--output-tensor-type <type>", "GGUF: ggml type for output.weight")
    .option("--token-embedding-type <type>", "GGUF: ggml type for token_embd.weight")
    .option("--tensor-type <pattern=type>", "GGUF: per-tensor type override, e.g. ffn_down=Q8_0 (repeatable)", collect, [])
    .option("--json", "print the JSON summary on stdout")
    .action(async (modelPath: string, flags: QuantizeFlags) => {
      const { format, sizeBytes } = await detectModelFormat(modelPath);
      const progress = createStderrProgress();
      if (format === "gguf") {
        const result = await quantizeGguf(modelPath, flags.output, ggufOptionsFrom(flags), { logger: stderrLogger, progress });
        if (flags.json) printJson({ schemaVersion: 1, method: flags.method, output: result.artifact, durationMs: result.durationMs, log: result.log });
        else printHuman(renderGgufSummary(flags.method, sizeBytes ?? 0, result));
        return;
      }
      if (format !== "onnx") {
        throw new EdgeforgeError("UNKNOWN_FORMAT", `${modelPath} is ${format}; quantize takes .onnx and .gguf models`, {
          hint: "convert the model to ONNX or GGUF first",
          details: { path: modelPath, format },
        });
      }
      if (!isOnnxQuantizeMethod(flags.method)) {
        throw new EdgeforgeError("INVALID_OPTION", `--method ${flags.method} is not an ONNX method`, {
          hint: `use one of ${Object.keys(onnxQuantizeMethods).join(", ")}`,
          details: { method: flags.method },
        });
      }
      const report = await quantize(modelPath, {
        method: flags.method,
        ...(flags.output ? { output: flags.output } : {}),
        ...(flags.calibration ? { calibration: flags.calibration } : {}),
        ...(flags.evaluation ? { evaluation: flags.evaluation } : {}),
        ...(flags.preprocess ? { datasetSpecPath: flags.preprocess } : {}),
        ...(flags.limit === undefined ? {} : { datasetSpec: { limit: flags.limit } }),
        ...(flags.threads === undefined ? {} : { threads: flags.threads }),
        passOptions: passOptionsFrom(flags),
        logger: stderrLogger,
        progress,
      });
      if (flags.json) printJson(report);
      else printHuman(renderSummary(report));
    });
}
