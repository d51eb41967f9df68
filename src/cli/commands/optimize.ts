import { InvalidArgumentError, Option, type Command } from "commander";
import { stringify as toYaml } from "yaml";
import { optimize, planOptimize, registerReport, type OptimizeOptions } from "../../api/index.js";
import { parseShapeOverrides } from "../../core/shapes.js";
import { exitCodes } from "../exit-codes.js";
import { collect, parsePositiveInt } from "../options.js";
import { createStderrProgress, printHuman, printJson, stderrLogger } from "../output.js";
import { renderOptimizeSummary } from "../render/render-optimize.js";

interface OptimizeFlags {
  target?: string;
  output?: string;
  config?: string;
  eval?: string;
  calibration?: string;
  labels?: string;
  evaluator?: OptimizeOptions["evaluator"];
  evalLimit?: number;
  gates?: string;
  gate: string[];
  defaultGates: boolean;
  objective: string[];
  constraint: string[];
  strategy?: OptimizeOptions["strategy"];
  budget: string[];
  seed?: number;
  stopWhenGoalsMet?: boolean;
  pass: string[];
  passOption: string[];
  exclude: string[];
  threads?: number[];
  graphOpt?: OptimizeOptions["graphOptimizationLevels"];
  memorySettings: boolean;
  ggufTypes?: string[];
  runs?: number;
  warmup?: number;
  shape: string[];
  ctx?: number;
  cacheDir?: string;
  cache: boolean;
  memoryBudget?: string;
  dryRun?: boolean;
  json?: boolean;
  register?: string;
  registry?: string;
}

function parseIntList(value: string): number[] {
  const list = value.split(",").map((part) => Number(part.trim()));
  if (list.some((n) => !Number.isInteger(n) || n <= 0)) throw new InvalidArgumentError("expected comma-separated positive integers");
  return list;
}

function parseStringList(value: string): string[] {
  return value.split(",").map((part) => part.trim()).filter(Boolean);
}

/** `--pass-option onnx.quantize.int4:blockSize=64`: fixes one option of one pass (values are JSON when they parse, else strings). */
export function parsePassOptions(values: readonly string[]): Record<string, Record<string, unknown>> {
  const options: Record<string, Record<string, unknown>> = {};
  for (const value of values) {
    const match = /^([a-z0-9.-]+):([A-Za-z0-9_]+)=(.*)$/.exec(value.trim());
    if (!match) throw new InvalidArgumentError(`pass option "${value}": expected PASS_ID:OPTION=VALUE, e.g. onnx.quantize.int4:blockSize=64`);
    const [, passId, key, raw] = match as unknown as [string, string, string, string];
    let parsed: unknown = raw;
    try {
      parsed = JSON.parse(raw);
    } catch {
      // a bare word: keep it as a string
    }
    options[passId] = { ...(options[passId] ?? {}), [key]: parsed };
  }
  return options;
}

/** `--budget 12` (candidates) or `--budget 10m` / `--budget 300s` (time); may be given twice. */
export function parseBudgets(values: readonly string[]): { maxCandidates?: number; maxTimeSec?: number } {
  const budget: { maxCandidates?: number; maxTimeSec?: number } = {};
  for (const value of values) {
    const match = /^(\d+(?:\.\d+)?)\s*(s|m|h)?$/i.exec(value.trim());
    if (!match) throw new InvalidArgumentError(`budget "${value}": expected a candidate count (12) or a time (300s, 10m, 1h)`);
    const amount = Number(match[1]);
    const unit = match[2]?.toLowerCase();
    if (unit === undefined) {
      if (!Number.isInteger(amount) || amount <= 0) throw new InvalidArgumentError(`budget "${value}": a candidate count is a positive integer`);
      budget.maxCandidates = amount;
    } else {
      if (amount <= 0) throw new InvalidArgumentError(`budget "${value}": a time budget is more than zero`);
      budget.maxTimeSec = amount * (unit === "h" ? 3600 : unit === "m" ? 60 : 1);
    }
  }
  return budget;
}

/** Repeatable flags checked value by value while parsing, so a bad one is a usage error before any work. */
function collectChecked(check: (value: string) => unknown): (value: string, previous: string[]) => string[] {
  return (value, previous) => {
    check(value);
    return [...previous, value];
  };
}

export function registerOptimizeCommand(program: Command): void {
  program
    .command("optimize")
    .description("Find the best optimized artifact for a target: plan, search, measure, Pareto frontier, quality gates, reports")
    .argument("[model]", "input model (.onnx, .gguf, or a Hugging Face folder); optional with --config")
    .option("-t, --target <name>", "target profile, or local (this machine)", undefined)
    .option("-o, --output <dir>", "folder for the recommended artifact and report.{json,md,html}, junit.xml")
    .option("--config <file>", "workflow config (YAML/JSON) to start from; flags override it")
    .option("--eval <data>", "evaluation data: dataset folder or .json/.jsonl (ONNX), text file (LLM)")
    .option("--calibration <data>", "calibration data for static int8 (ONNX)")
    .option("--labels <file>", "character list for CTC (OCR) evaluation, e.g. ppocr_keys_v1.txt")
    .addOption(new Option("--evaluator <kind>", "how accuracy is judged").choices(["auto", "fidelity", "classification", "ctc"]))
    .option("--eval-limit <n>", "evaluation samples (ONNX) or perplexity chunks (LLM) to use", parsePositiveInt)
    .option("--gates <file>", "quality gates file (YAML/JSON); replaces the defaults")
    .option("--gate <expr>", 'a gate: "accuracyRetention >= 95%" or "p50LatencyMs percent-min-improvement 50 priority 2" (repeatable)', collect, [])
    .option("--no-default-gates", "no default gates when none are given")
    .option("--objective <metric[:min|max][:weight]>", "Pareto objective with a weight (repeatable; default latency, memory, size, accuracy)", collect, [])
    .option("--constraint <expr>", 'hard limit, e.g. "p95LatencyMs <= 20" or "peakRssBytes <= 512MB" (repeatable)', collect, [])
    .addOption(new Option("--strategy <name>", "search strategy (auto: exhaustive when the space fits the budget, else tpe)").choices(["auto", "exhaustive", "random", "tpe"]))
    .option("--budget <n|time>", "max candidates (12) and/or max time (300s, 10m) (repeatable)", collectChecked((value) => parseBudgets([value])), [])
    .option("--seed <n>", "seed for the search and generated inputs", parsePositiveInt)
    .option("--stop-when-goals-met", "stop at the first candidate that passes every gate")
    .option("--pass <id>", "only consider this pass (repeatable)", collect, [])
    .option("--exclude <id>", "never try this pass (repeatable)", collect, [])
    .option("--pass-option <id:key=value>", "fix an option of a pass instead of searching it, e.g. onnx.quantize.int4:blockSize=64 (repeatable)", collectChecked((value) => parsePassOptions([value])), [])
    .option("--threads <list>", "thread counts to try, e.g. 1,4", parseIntList)
    .option("--graph-opt <list>", "ONNX Runtime graph optimization levels to try, e.g. basic,all", parseStringList)
    .option("--no-memory-settings", "do not also try the memory settings (ONNX Runtime without its CPU arena and memory pattern; llama.cpp with a 64-token batch)")
    .option("--gguf-types <list>", "llama.cpp types to try, e.g. Q8_0,Q4_K_M", parseStringList)
    .option("--runs <n>", "timed inferences per candidate", parsePositiveInt)
    .option("--warmup <n>", "warm-up inferences per candidate", parsePositiveInt)
    .option("--shape <name=DxD...>", "fix an input shape (repeatable)", collectChecked((value) => parseShapeOverrides([value])), [])
    .option("--ctx <tokens>", "LLM context size", parsePositiveInt)
    .option("--cache-dir <dir>", "pass cache (default ~/.cache/edgeforge or $EDGEFORGE_CACHE_DIR)")
    .option("--no-cache", "neither read nor reuse cached pass outputs")
    .option("--memory-budget <size>", "override the target's memory budget, e.g. 512MB")
    .option("--register <model>", "register the recommended artifact as a new version of this model (lineage + evaluations)")
    .option("--registry <file>", "registry database for --register (default $EDGEFORGE_REGISTRY or ~/.edgeforge/registry.db)")
    .option("--dry-run", "print the resolved workflow config and the plan; run nothing")
    .option("--json", "print report.json (or, with --dry-run, the config and plan) on stdout")
    .action(async (model: string | undefined, flags: OptimizeFlags) => {
      const budget = parseBudgets(flags.budget);
      const options: OptimizeOptions = {
        ...(model ? { model } : {}),
        ...(flags.output ? { output: flags.output } : {}),
        ...(flags.target ? { target: flags.target } : {}),
        ...(flags.config ? { configPath: flags.config } : {}),
        ...(flags.eval ? { evaluation: flags.eval } : {}),
        ...(flags.calibration ? { calibration: flags.calibration } : {}),
        ...(flags.labels ? { labels: flags.labels } : {}),
        ...(flags.evaluator ? { evaluator: flags.evaluator } : {}),
        ...(flags.evalLimit ? { evalLimit: flags.evalLimit } : {}),
        ...(flags.gates ? { gatesFile: flags.gates } : {}),
        ...(flags.gate.length > 0 ? { gates: flags.gate } : {}),
        ...(flags.defaultGates ? {} : { noDefaultGates: true }),
        ...(flags.objective.length > 0 ? { objectives: flags.objective } : {}),
        ...(flags.constraint.length > 0 ? { constraints: flags.constraint } : {}),
        ...(flags.strategy ? { strategy: flags.strategy } : {}),
        ...budget,
        ...(flags.seed ? { seed: flags.seed } : {}),
        ...(flags.stopWhenGoalsMet ? { stopWhenGoalsMet: true } : {}),
        ...(flags.pass.length > 0 ? { passes: flags.pass } : {}),
        ...(flags.exclude.length > 0 ? { exclude: flags.exclude } : {}),
        ...(flags.passOption.length > 0 ? { passOptions: parsePassOptions(flags.passOption) } : {}),
        ...(flags.threads ? { threads: flags.threads } : {}),
        ...(flags.graphOpt ? { graphOptimizationLevels: flags.graphOpt } : {}),
        ...(flags.memorySettings ? {} : { memorySettings: false }),
        ...(flags.ggufTypes ? { ggufTypes: flags.ggufTypes } : {}),
        ...(flags.runs ? { runs: flags.runs } : {}),
        ...(flags.warmup ? { warmupRuns: flags.warmup } : {}),
        ...(flags.shape.length > 0 ? { shapes: parseShapeOverrides(flags.shape) } : {}),
        ...(flags.ctx ? { contextSize: flags.ctx } : {}),
        ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
        ...(flags.cache ? {} : { cache: false }),
        ...(flags.memoryBudget ? { memoryBudget: flags.memoryBudget } : {}),
        logger: stderrLogger,
        progress: createStderrProgress(),
      };
      if (flags.dryRun) {
        const { config, prepared } = await planOptimize(options);
        const plan = {
          baseline: prepared.plan.baseline,
          candidates: prepared.plan.candidates.map((c) => ({ id: c.id, chain: c.chain, runtime: c.runtime, reasons: c.reasons })),
          skipped: prepared.plan.skipped,
          reasons: prepared.plan.reasons,
          gates: prepared.goals.gates,
          objectives: prepared.goals.objectives,
        };
        if (flags.json) printJson({ config, plan });
        else {
          process.stdout.write(toYaml(config));
          printHuman(`plan: ${prepared.plan.candidates.length + 1} candidates (baseline ${prepared.plan.baseline.id})`);
          for (const reason of prepared.plan.reasons) printHuman(`  - ${reason}`);
          for (const skip of prepared.plan.skipped) printHuman(`  - left out ${skip.label}: ${skip.reason}`);
        }
        return;
      }
      const report = await optimize(options);
      if (flags.json) printJson(report);
      printHuman(renderOptimizeSummary(report));
      if (flags.register) {
        const registered = await registerReport({ report: report.outputs.reportJson, model: flags.register, command: "optimize --register", ...(flags.registry ? { registry: flags.registry } : {}) });
        printHuman(`registered ${registered.model}@${registered.version} (sha256 ${registered.artifactDigest}) with its lineage and ${registered.evaluations} evaluation(s)`);
      }
      if (report.verdict !== "passed") process.exitCode = exitCodes.gatesFailed;
    });
}
