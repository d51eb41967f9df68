import { type Command, InvalidArgumentError, Option } from "commander";
import { EdgeforgeError } from "../../core/errors.js";
import { parseShapeOverrides } from "../../core/shapes.js";
import { readInputValues, runtimeIds } from "../../api/bench.js";
import { evalTasks, evaluate, renderEvalMarkdown, type EvalTask } from "../../api/evaluate.js";
import { llmBenchFormats, renderLlmEvaluations, type LlmBenchFormat, type LlmEvaluation } from "../../api/evaluate-llm.js";
import { collect, parsePositiveInt } from "../options.js";
import { createStderrProgress, printHuman, printJson, stderrLogger } from "../output.js";

interface EvalFlags {
  baseline?: string;
  base?: string;
  data?: string;
  text?: string;
  format?: LlmBenchFormat;
  task?: EvalTask;
  evaluator?: string;
  keys?: string;
  space: boolean;
  outputTensor?: string;
  samples?: number;
  preprocess?: string;
  shape: string[];
  inputValues?: string;
  runtime?: string;
  threads?: number;
  ctx?: number;
  maxChunks?: number;
  seed?: number;
  set: string[];
  json?: boolean;
}

/** `--set key=value` for evaluator options; numbers and booleans are parsed, the rest kept as text. */
function parseSetting(value: string, previous: string[] = []): string[] {
  if (!/^[A-Za-z_][\w.-]*=/.test(value)) throw new InvalidArgumentError("expected key=value");
  return [...previous, value];
}

function settingsFrom(pairs: readonly string[]): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const pair of pairs) {
    const split = pair.indexOf("=");
    const raw = pair.slice(split + 1);
    settings[pair.slice(0, split)] = raw === "true" ? true : raw === "false" ? false : raw !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return settings;
}

export function registerEvalCommand(program: Command): void {
  program
    .command("eval")
    .description("Evaluate a model: accuracy, fidelity to a baseline, CTC sequence accuracy, a custom evaluator, or LLM metrics")
    .argument("<model>", "model file")
    .option("--baseline <model>", "reference model: retention ratios, or the fidelity/KL reference")
    .option("--base <model>", "same as --baseline (llama.cpp's spelling, for LLMs)")
    .option("--data <path>", "dataset folder or .json/.jsonl file (text file for LLM metrics)")
    .option("--text <file>", "held-out text for LLM metrics (same as --data)")
    .addOption(new Option("--format <format>", "LLM metrics as a llama-bench-style table on stdout").choices([...llmBenchFormats]))
    .addOption(new Option("--task <task>", "what to measure (default: chosen from the inputs)").choices([...evalTasks]))
    .option("--evaluator <file>", "JS module exporting the evaluator function (task custom)")
    .option("--keys <file>", "CTC character list, one per line (e.g. ppocr_keys_v1.txt)")
    .option("--no-space", "the CTC classes end without the space class")
    .option("--output-tensor <name>", "the model output to score (default: the first)")
    .option("--samples <n>", "generated input sets for fidelity without --data (default 16)", parsePositiveInt)
    .option("--preprocess <file>", "dataset spec or image preprocessing spec (JSON)")
    .option("--shape <name=DxD...>", "fix an input shape or symbolic dimension (repeatable)", collect, [])
    .option("--input-values <file>", "JSON overrides for generated input values")
    .addOption(new Option("--runtime <id>", "engine (default: by format)").choices([...runtimeIds]))
    .option("--threads <n>", "compute threads", parsePositiveInt)
    .option("--ctx <tokens>", "LLM perplexity context size", parsePositiveInt)
    .option("--max-chunks <n>", "LLM: evaluate only the first N chunks", parsePositiveInt)
    .option("--seed <n>", "seed for generated inputs (default 1)", parsePositiveInt)
    .option("--set <key=value>", "extra evaluator option, passed to custom evaluators (repeatable)", parseSetting, [])
    .option("--json", "print the JSON record on stdout")
    .action(async (modelPath: string, flags: EvalFlags) => {
      const options: Record<string, unknown> = {
        ...settingsFrom(flags.set),
        ...(flags.keys ? { keys: flags.keys } : {}),
        ...(flags.space ? {} : { useSpace: false }),
        ...(flags.outputTensor ? { outputName: flags.outputTensor } : {}),
        ...(flags.samples === undefined ? {} : { samples: flags.samples }),
        ...(flags.threads === undefined ? {} : { threads: flags.threads }),
        ...(flags.ctx === undefined ? {} : { contextSize: flags.ctx }),
        ...(flags.maxChunks === undefined ? {} : { maxChunks: flags.maxChunks }),
      };
      const baselinePath = flags.baseline ?? flags.base;
      const dataPath = flags.data ?? flags.text;
      const record = await evaluate({
        modelPath,
        ...(baselinePath ? { baselinePath } : {}),
        ...(dataPath ? { dataPath } : {}),
        ...(flags.task ? { task: flags.task } : {}),
        ...(flags.evaluator ? { evaluatorPath: flags.evaluator } : {}),
        ...(flags.preprocess ? { datasetSpecPath: flags.preprocess } : {}),
        shapes: parseShapeOverrides(flags.shape),
        ...(flags.inputValues ? { values: await readInputValues(flags.inputValues) } : {}),
        ...(flags.runtime ? { runtime: flags.runtime } : {}),
        settings: flags.threads === undefined ? {} : { threads: flags.threads },
        ...(flags.seed === undefined ? {} : { seed: flags.seed }),
        options,
        logger: stderrLogger,
        progress: createStderrProgress(),
      });
      const llmEvaluation = (record.details as { llm?: LlmEvaluation }).llm;
      if (flags.format && !llmEvaluation) {
        throw new EdgeforgeError("INVALID_OPTION", "--format renders LLM metrics; this evaluation is not an LLM one", {
          hint: "use --json for the evaluation record of other tasks",
        });
      }
      if (flags.format && llmEvaluation) process.stdout.write(renderLlmEvaluations([llmEvaluation], flags.format));
      else if (flags.json) printJson(record);
      else printHuman(renderEvalMarkdown(record));
    });
}
