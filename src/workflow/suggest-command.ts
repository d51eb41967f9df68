import type { Gate } from "../gates/gate.js";
import type { WorkflowConfig } from "./workflow-config.js";

function quote(text: string): string {
  return /^[A-Za-z0-9_./:=,@+-]+$/.test(text) ? text : `"${text.replace(/(["\\$`])/g, "\\$1")}"`;
}

function gateFlag(gate: Gate): string {
  const value = Number(gate.value.toPrecision(6));
  const body = gate.goal === "threshold" ? `${gate.metric} ${gate.op ?? ">="} ${value}` : `${gate.metric} ${gate.goal} ${value}`;
  return gate.priority === 1 ? body : `${body} priority ${gate.priority}`;
}

/**
 * The `edgeforge optimize` command that reproduces this run with other gates (constraints and the
 * target budget stay as they were): what a user copies to get the nearest passing verdict.
 */
export function suggestOptimizeCommand(config: WorkflowConfig, gates: readonly Gate[], outputSuffix = "-relaxed"): string {
  const args = ["edgeforge", "optimize", config.model, "-o", `${config.output}${outputSuffix}`];
  if (config.target !== "local") args.push("--target", config.target);
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
  for (const pass of config.candidates.passes ?? []) args.push("--pass", pass);
  for (const pass of config.candidates.exclude) args.push("--exclude", pass);
  for (const constraint of config.constraints) args.push("--constraint", constraint);
  args.push("--no-default-gates");
  for (const gate of gates.filter((g) => g.priority > 0)) args.push("--gate", gateFlag(gate));
  return args.map(quote).join(" ");
}
