import type { Gate } from "../gates/gate.js";
import { workflowConfigSchema, type WorkflowConfig } from "./workflow-config.js";

function quote(text: string): string {
  return /^[A-Za-z0-9_./:=,@+-]+$/.test(text) ? text : `"${text.replace(/(["\\$`])/g, "\\$1")}"`;
}

function gateFlag(gate: Gate): string {
  const value = Number(gate.value.toPrecision(6));
  const body = gate.goal === "threshold" ? `${gate.metric} ${gate.op ?? ">="} ${value}` : `${gate.metric} ${gate.goal} ${value}`;
  return gate.priority === 1 ? body : `${body} priority ${gate.priority}`;
}

/**
 * The `edgeforge optimize` command that reproduces this run with other gates (its search, candidates,
 * measurement, cache and constraints as they were, and the run's --memory-budget override, which is not
 * in the config): what a user copies to get the nearest passing verdict.
 */
export function suggestOptimizeCommand(config: WorkflowConfig, gates: readonly Gate[], options: { outputSuffix?: string; memoryBudgetBytes?: number } = {}): string {
  const args = ["edgeforge", "optimize", config.model, "-o", `${config.output}${options.outputSuffix ?? "-relaxed"}`];
  if (config.target !== "local") args.push("--target", config.target);
  if (options.memoryBudgetBytes !== undefined) args.push("--memory-budget", String(options.memoryBudgetBytes));
  if (config.data.evaluation) args.push("--eval", config.data.evaluation);
  if (config.data.calibration) args.push("--calibration", config.data.calibration);
  if (config.data.labels) args.push("--labels", config.data.labels);
  if (config.data.evaluator !== "auto") args.push("--evaluator", config.data.evaluator);
  if (config.data.limit) args.push("--eval-limit", String(config.data.limit));
  for (const [name, dims] of Object.entries(config.measurement.shapes)) args.push("--shape", `${name}=${dims.join("x")}`);
  if (config.measurement.contextSize) args.push("--ctx", String(config.measurement.contextSize));
  if (config.candidates.threads) args.push("--threads", config.candidates.threads.join(","));
  if (config.candidates.graphOptimizationLevels) args.push("--graph-opt", config.candidates.graphOptimizationLevels.join(","));
  if (config.candidates.ggufTypes) args.push("--gguf-types", config.candidates.ggufTypes.join(","));
  if (!config.candidates.memorySettings) args.push("--no-memory-settings");
  for (const pass of config.candidates.passes ?? []) args.push("--pass", pass);
  for (const pass of config.candidates.exclude) args.push("--exclude", pass);
  for (const [pass, options] of Object.entries(config.candidates.passOptions)) {
    for (const [key, value] of Object.entries(options)) args.push("--pass-option", `${pass}:${key}=${typeof value === "string" ? value : JSON.stringify(value)}`);
  }
  // Flags only where the run differs from the config's defaults (the schema's own), so the command stays short.
  const defaults = workflowConfigSchema.parse({ schemaVersion: 1, model: config.model, output: config.output });
  if (config.search.strategy !== defaults.search.strategy) args.push("--strategy", config.search.strategy);
  if (config.search.maxCandidates !== defaults.search.maxCandidates) args.push("--budget", String(config.search.maxCandidates));
  if (config.search.maxTimeSec !== undefined) args.push("--budget", `${config.search.maxTimeSec}s`);
  if (config.search.seed !== defaults.search.seed) args.push("--seed", String(config.search.seed));
  if (config.search.stopWhenGoalsMet) args.push("--stop-when-goals-met");
  if (config.measurement.runs !== defaults.measurement.runs) args.push("--runs", String(config.measurement.runs));
  if (config.measurement.warmupRuns !== defaults.measurement.warmupRuns) args.push("--warmup", String(config.measurement.warmupRuns));
  if (!config.cache.enabled) args.push("--no-cache");
  else if (config.cache.dir) args.push("--cache-dir", config.cache.dir);
  for (const objective of config.objectives ?? []) args.push("--objective", objective);
  for (const constraint of config.constraints) args.push("--constraint", constraint);
  args.push("--no-default-gates");
  for (const gate of gates.filter((g) => g.priority > 0)) args.push("--gate", gateFlag(gate));
  return args.map(quote).join(" ");
}
