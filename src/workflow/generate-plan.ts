import type { ModelFormat } from "../core/artifact.js";
import { formatBytes } from "../core/units.js";
import type { RankedFramework } from "../hardware/recommend-frameworks.js";
import type { TargetProfile } from "../hardware/target-profile.js";
import type { Pass } from "../passes/pass.js";
import { judgePass } from "./pass-rules.js";
import type { LocalFacts, ModelFacts, PlannedCandidate, PlannedPass, PlannedRuntime, WorkflowPlan } from "./plan-types.js";
import type { WorkflowConfig } from "./workflow-config.js";

export type PassDescriptor = Pick<Pass, "id" | "inputFormat" | "outputFormat" | "searchSpace">;

/** The option of `gguf.quantize` that names the llama.cpp type. */
export const ggufTypeOption = "method";

interface PlannedChain {
  chain: PlannedPass[];
  reason: string;
  outputFormat: ModelFormat;
  /** Searched option values that tell this chain from its siblings, for the candidate id. */
  nameParts: string[];
}

export interface GeneratePlanInput {
  facts: ModelFacts;
  target: TargetProfile;
  frameworks: RankedFramework[];
  passes: readonly PassDescriptor[];
  config: WorkflowConfig;
  local: LocalFacts;
}

const shortNames: Record<string, string> = {
  "onnx.convert.fp16": "fp16",
  "onnx.quantize.int8-dynamic": "int8-dynamic",
  "onnx.quantize.int8-static": "int8-static",
  "onnx.quantize.int4": "int4",
  "onnx.quantize.auto": "auto",
  "hf.convert.gguf": "gguf",
  "mlx.export": "mlx",
};

function chainName(chain: readonly PlannedPass[], facts: ModelFacts): string {
  if (chain.length === 0) return facts.format === "gguf" ? (facts.fileType ?? "input").toLowerCase() : facts.format === "onnx" ? "fp32" : "input";
  const last = chain[chain.length - 1] as PlannedPass;
  if (last.passId === "gguf.quantize") return String(last.options[ggufTypeOption]).toLowerCase();
  return shortNames[last.passId] ?? last.passId.split(".").pop() ?? last.passId;
}

function cartesian(dimensions: ReadonlyArray<readonly [string, readonly unknown[]]>): Record<string, unknown>[] {
  let rows: Record<string, unknown>[] = [{}];
  for (const [key, values] of dimensions) rows = rows.flatMap((row) => values.map((value) => ({ ...row, [key]: value })));
  return rows;
}

/** Option variants a pass's search space offers, minus options the config fixes; `varied` names the options that differ between variants. */
function optionVariants(pass: PassDescriptor, fixed: Record<string, unknown>): { options: Record<string, unknown>; varied: string[] }[] {
  const searched = Object.entries(pass.searchSpace).filter(([key, values]) => !(key in fixed) && Array.isArray(values) && values.length > 0) as [string, readonly unknown[]][];
  const varied = searched.filter(([, values]) => values.length > 1).map(([key]) => key);
  return cartesian(searched).map((variant) => ({ options: { ...fixed, ...variant }, varied }));
}

/** The batch the llama.cpp memory variant uses, in tokens. */
export const memoryBatchTokens = 64;

function runtimeVariants(format: ModelFormat, input: GeneratePlanInput): PlannedRuntime[] {
  const { config, target, local } = input;
  // Thread candidates come from the cores other work leaves free: on a busy machine more threads only wait.
  const maxThreads = Math.max(1, Math.min(target.cpu.cores, local.freeCores ?? local.availableThreads));
  const threads = config.candidates.threads ?? [...new Set([1, maxThreads])];
  if (format === "gguf") {
    const contextSize = config.measurement.contextSize;
    const context = contextSize ? { contextSize } : {};
    // The memory setting: a smaller batch. llama.cpp's compute buffer grows with the batch (tiny-fortunes, 256-token
    // context: 4.8 MiB at a 256-token batch, 1.2 MiB at 64) while prompt speed held (0.985× [0.894, 1.053]; docs/decide.md).
    const effectiveContext = contextSize ?? input.facts.contextLength;
    const smallBatch = config.candidates.memorySettings && (effectiveContext === undefined || effectiveContext > memoryBatchTokens);
    return threads.flatMap((t): PlannedRuntime[] => [{ runtime: "llama-cpp", threads: t, ...context }, ...(smallBatch ? [{ runtime: "llama-cpp", threads: t, ...context, batchSize: memoryBatchTokens }] : [])]);
  }
  // MLX picks its own CPU threads: one setting.
  if (format === "mlx") return local.runtimes.includes("mlx") ? [{ runtime: "mlx" }] : [];
  if (format !== "onnx") return [];
  const levels = config.candidates.graphOptimizationLevels ?? ["basic", "all"];
  const providers = config.candidates.executionProviders ?? (local.ortExecutionProviders.length > 0 ? local.ortExecutionProviders : ["cpu"]);
  const variants: PlannedRuntime[] = [];
  for (const executionProvider of providers) {
    for (const t of threads) {
      for (const level of levels) variants.push({ runtime: "ort", threads: t, graphOptimizationLevel: level, executionProvider });
      // The memory settings: no CPU arena and no memory pattern (less resident memory, often a little slower).
      if (config.candidates.memorySettings && executionProvider === "cpu") {
        variants.push({ runtime: "ort", threads: t, graphOptimizationLevel: levels.includes("all") ? "all" : (levels[levels.length - 1] as PlannedRuntime["graphOptimizationLevel"] & string), enableCpuMemArena: false, enableMemPattern: false, executionProvider });
      }
    }
  }
  if (local.runtimes.includes("openvino")) for (const t of threads) variants.push({ runtime: "openvino", threads: t });
  return variants;
}

/**
 * The input model as users run it without edgeforge: the runtime's defaults (every core the
 * target has, full graph optimization, arena on). On a machine where other work keeps cores busy,
 * those threads would only wait for cores, so the default is measured on the cores that are free
 * (what a user's default run gets here); `why` says so. Candidates are compared against it.
 */
function defaultRuntime(runtimes: readonly PlannedRuntime[], input: GeneratePlanInput): { runtime: PlannedRuntime; why?: string; reduced: boolean } {
  const first = runtimes[0];
  if (!first) return { runtime: { runtime: "none" }, reduced: false };
  // Thread counts the user fixed are their settings; otherwise every core the target has, as far as they are free.
  const fixed = input.config.candidates.threads;
  const everyCore = Math.max(1, Math.min(input.target.cpu.cores, input.local.availableThreads));
  const threads = fixed ? Math.max(...fixed) : Math.min(everyCore, input.local.freeCores ?? everyCore);
  const load = input.local.load;
  const why = fixed
    ? `${threads} thread${threads === 1 ? "" : "s"}, the most the workflow config allows`
    : !fixed && threads < everyCore
      ? `the runtime's default is every core (${everyCore} thread${everyCore === 1 ? "" : "s"}), but other work kept ${load?.busyCores === undefined ? "some" : load.busyCores.toFixed(1)} of ${load?.cores ?? everyCore} cores busy when the run started${load?.loadAverage1m === undefined ? "" : ` (load average ${load.loadAverage1m.toFixed(2)})`}, so the default is measured with ${threads} thread${threads === 1 ? "" : "s"}, the free core${threads === 1 ? "" : "s"}: more threads than free cores only wait for a core`
      : `every core (${threads} thread${threads === 1 ? "" : "s"}), the runtime's default`;
  const reduced = !fixed && threads < everyCore;
  const match = runtimes.find((r) => r.runtime === first.runtime && r.threads === threads && (r.graphOptimizationLevel ?? "all") === "all" && r.enableCpuMemArena !== false && r.batchSize === undefined && r.executionProvider === first.executionProvider);
  if (match) return { runtime: match, why, reduced };
  return {
    runtime: {
      runtime: first.runtime,
      threads,
      ...(first.graphOptimizationLevel === undefined ? {} : { graphOptimizationLevel: "all" as const }),
      ...(first.executionProvider === undefined ? {} : { executionProvider: first.executionProvider }),
      ...(first.contextSize === undefined ? {} : { contextSize: first.contextSize }),
    },
    why,
    reduced,
  };
}

export function describeRuntimeChoice(runtime: PlannedRuntime): string {
  return [
    runtime.runtime,
    runtime.threads === undefined ? "" : `${runtime.threads} thread${runtime.threads === 1 ? "" : "s"}`,
    runtime.graphOptimizationLevel ? `graph optimization ${runtime.graphOptimizationLevel}` : "",
    runtime.enableCpuMemArena === false ? "no CPU arena" : "",
    runtime.enableMemPattern === false ? "no memory pattern" : "",
    runtime.batchSize === undefined ? "" : `batch ${runtime.batchSize} tokens`,
    runtime.executionProvider ?? "",
  ]
    .filter(Boolean)
    .join(", ");
}

/**
 * Turn the assessment into a search space: which pass chains apply (and why), crossed with
 * runtime settings worth measuring. Chains that cannot apply are listed as skipped with the reason.
 */
export function generatePlan(input: GeneratePlanInput): WorkflowPlan {
  const { facts, target, config, passes } = input;
  const skipped: WorkflowPlan["skipped"] = [];
  const reasons: string[] = [];
  const wanted = (id: string): boolean => (config.candidates.passes === undefined || config.candidates.passes.includes(id)) && !config.candidates.exclude.includes(id);
  const context = {
    facts,
    target,
    hasCalibrationData: config.data.calibration !== undefined,
    hasEvaluationData: config.data.evaluation !== undefined,
    mlx: input.local.runtimes.includes("mlx") ? ({ loadsHere: true } as const) : ({ loadsHere: false, reason: input.local.mlxUnavailable ?? "node-mlx is not installed" } as const),
    ...(config.candidates.passes ? { askedFor: config.candidates.passes } : {}),
  };

  const chains: PlannedChain[] = [];
  let baselineChain: PlannedPass[] = [];
  let measuredFormat: ModelFormat = facts.format;
  if (facts.format === "safetensors") {
    const convert = passes.find((p) => p.id === "hf.convert.gguf");
    const verdict = judgePass("hf.convert.gguf", context);
    if (convert && verdict.applies) {
      baselineChain = [{ passId: convert.id, options: { ...(config.candidates.passOptions[convert.id] ?? {}) } }];
      measuredFormat = "gguf";
      reasons.push(`baseline: ${verdict.reason} (unquantized), measured on llama.cpp`);
    } else {
      skipped.push({ label: "hf.convert.gguf", reason: convert ? verdict.reason : "the hf.convert.gguf pass is not available" });
    }
  }

  for (const pass of passes) {
    if (pass.id === "hf.convert.gguf") continue;
    const inputFormat = measuredFormat === "gguf" && pass.inputFormat === "gguf" ? "gguf" : facts.format;
    if (pass.inputFormat !== inputFormat && !(pass.id === "mlx.export" && (facts.format === "safetensors" || facts.format === "gguf"))) continue;
    if (!wanted(pass.id)) {
      skipped.push({ label: pass.id, reason: "left out by the workflow config (candidates.passes / candidates.exclude)" });
      continue;
    }
    const verdict = judgePass(pass.id, context);
    if (!verdict.applies) {
      skipped.push({ label: pass.id, reason: verdict.reason });
      continue;
    }
    const fixed = config.candidates.passOptions[pass.id] ?? {};
    if (pass.id === "gguf.quantize") {
      for (const chain of planGgufTypes(input, pass, baselineChain, fixed, skipped)) chains.push(chain);
      continue;
    }
    const prefix = pass.id === "mlx.export" ? [] : baselineChain;
    for (const { options, varied } of optionVariants(pass, fixed)) {
      chains.push({ chain: [...prefix, { passId: pass.id, options }], reason: verdict.reason, outputFormat: pass.outputFormat, nameParts: varied.map((key) => `${key}-${String(options[key])}`) });
    }
  }

  const runtimes = runtimeVariants(measuredFormat, input);
  if (runtimes.length === 0) {
    reasons.push(`no runtime here measures ${measuredFormat} models: candidates are produced but not measured`);
  }
  const { runtime: baselineRuntime, why: defaultThreads, reduced } = defaultRuntime(runtimes, input);
  const ids = new Set<string>();
  const makeCandidate = (chain: PlannedPass[], optionPart: readonly string[], runtime: PlannedRuntime, why: string[], isBaseline: boolean, measurable: boolean): PlannedCandidate => {
    const name = chainName(chain, facts);
    const runtimePart = measurable ? [["ort", "llama-cpp", "mlx"].includes(runtime.runtime) ? "" : runtime.runtime, runtime.threads === undefined ? "" : `${runtime.threads}t`, runtime.graphOptimizationLevel ?? "", runtime.enableCpuMemArena === false ? "noarena" : "", runtime.batchSize === undefined ? "" : `b${runtime.batchSize}`, runtime.executionProvider && runtime.executionProvider !== "cpu" ? runtime.executionProvider : ""] : [];
    let id = [name, ...optionPart, ...runtimePart].filter(Boolean).join("-").replace(/[^A-Za-z0-9._-]/g, "_");
    for (let n = 2; ids.has(id); n += 1) id = `${id}-${n}`;
    ids.add(id);
    const coordinates: Record<string, string> = { chain: name, runtime: runtime.runtime, threads: String(runtime.threads ?? "-"), graph: runtime.graphOptimizationLevel ?? "-", arena: String(runtime.enableCpuMemArena ?? "-"), batch: String(runtime.batchSize ?? "-"), ep: runtime.executionProvider ?? "-" };
    for (const step of chain) for (const [key, value] of Object.entries(step.options)) coordinates[`${step.passId}.${key}`] = JSON.stringify(value);
    const label = `${chain.length === 0 ? `input model (${name})` : chain.map((s) => s.passId).join(" → ")}${measurable ? ` on ${describeRuntimeChoice(runtime)}` : ""}`;
    return { id, label, chain, runtime, isBaseline, reasons: why, coordinates, measurable };
  };

  const baseline = makeCandidate(baselineChain, [], baselineRuntime, ["the reference every gate and ratio is measured against", `as users run it by default: ${describeRuntimeChoice(baselineRuntime)}`, ...(defaultThreads ? [`threads: ${defaultThreads}`] : [])], true, runtimes.length > 0);
  const candidates: PlannedCandidate[] = [];
  for (const runtime of runtimes) {
    if (runtime === baselineRuntime) continue;
    candidates.push(makeCandidate(baselineChain, [], runtime, [`the unoptimized model with other runtime settings: ${describeRuntimeChoice(runtime)}`], false, true));
  }
  for (const { chain, reason, outputFormat, nameParts } of chains) {
    const chainRuntimes = outputFormat === measuredFormat ? runtimes : runtimeVariants(outputFormat, input);
    if (chainRuntimes.length === 0) {
      const why = outputFormat === "mlx" ? `MLX does not load on this machine (${input.local.mlxUnavailable ?? "node-mlx is not installed"}): size only, not measured` : `${outputFormat} artifacts cannot be measured on this machine; size only`;
      candidates.push(makeCandidate(chain, nameParts, { runtime: "none" }, [reason, why], false, false));
      continue;
    }
    for (const runtime of chainRuntimes) candidates.push(makeCandidate(chain, nameParts, runtime, [reason], false, true));
  }
  reasons.push(
    `${candidates.length} candidates from ${chains.length} pass chain${chains.length === 1 ? "" : "s"} × ${runtimes.length} runtime setting${runtimes.length === 1 ? "" : "s"} (plus the unoptimized model's own settings)`,
  );
  if (target.origin === "profile") {
    reasons.push(`${target.name} is a profile: candidates are measured on this machine, so latency figures are indicative; memory and size carry over`);
  }
  const top = input.frameworks.find((f) => f.usable) ?? input.frameworks[0];
  if (top) reasons.unshift(`framework for ${target.name}: ${top.framework} (${top.reasons.join("; ")})`);
  return { modelKind: facts.modelKind, target, frameworks: input.frameworks, reasons, baseline, ...(defaultThreads ? { defaultThreads: { why: defaultThreads, reducedToFreeCores: reduced } } : {}), candidates, skipped };
}

/** llama.cpp types worth trying: those the fit estimate keeps within the target's memory budget. */
function planGgufTypes(input: GeneratePlanInput, pass: PassDescriptor, prefix: PlannedPass[], fixed: Record<string, unknown>, skipped: WorkflowPlan["skipped"]): PlannedChain[] {
  const { facts, config, target } = input;
  const estimates = facts.fit.options.filter((option) => option.format === "gguf");
  const searched = pass.searchSpace[ggufTypeOption as keyof typeof pass.searchSpace] as readonly unknown[] | undefined;
  const requested = config.candidates.ggufTypes ?? (typeof fixed[ggufTypeOption] === "string" ? [fixed[ggufTypeOption] as string] : (searched ?? []).map(String));
  const chains: PlannedChain[] = [];
  for (const type of requested) {
    if (type === facts.fileType) {
      skipped.push({ label: `gguf.quantize ${type}`, reason: "the input is already this type" });
      continue;
    }
    const estimate = estimates.find((option) => option.quantization === type);
    if (estimate && !estimate.fits) {
      skipped.push({ label: `gguf.quantize ${type}`, reason: `estimated ${formatBytes(estimate.estimatedRunBytes)} to run exceeds ${target.name}'s budget of ${formatBytes(facts.fit.memoryBudgetBytes)}` });
      continue;
    }
    const why = estimate ? `${type} is estimated at ${formatBytes(estimate.estimatedRunBytes)} to run (${estimate.bitsPerWeight} bits/weight), within ${target.name}'s ${formatBytes(facts.fit.memoryBudgetBytes)}` : `${type} was asked for`;
    chains.push({ chain: [...prefix, { passId: "gguf.quantize", options: { ...fixed, [ggufTypeOption]: type } }], reason: why, outputFormat: "gguf", nameParts: [] });
  }
  return chains;
}
