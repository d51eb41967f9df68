import { readFile } from "node:fs/promises";
import { z } from "zod";
import { EdgeforgeError, fileError } from "../core/errors.js";
import { parseConfigText } from "../core/parse-config-text.js";
import { comparisonOps, parseConstraint, parseMetricValue } from "../pareto/constraint.js";
import { requireMetricName } from "../pareto/metric-catalog.js";
import { assertGatesConsistent } from "./check-gates.js";
import { goalTypes, type Gate } from "./gate.js";

export const gateEntrySchema = z
  .object({
    name: z.string().min(1).optional().describe("shown in reports and as the JUnit test case name; default: the metric"),
    metric: z.string().min(1).describe("a metric name, e.g. p95LatencyMs, accuracyRetention, speedup"),
    goal: z.enum(goalTypes).default("threshold"),
    value: z.union([z.number(), z.string()]).describe("in the metric's unit; sizes (512MB), percent (95%) and factors (2x) are accepted"),
    op: z.enum(comparisonOps).optional().describe("threshold goals only; default follows the metric's direction"),
    priority: z.number().int().min(1).default(1).describe("1 = most important"),
  })
  .strict();

export const gatesFileSchema = z
  .object({
    schemaVersion: z.literal(1),
    gates: z.array(gateEntrySchema).min(1),
  })
  .strict();

export type GateEntry = z.input<typeof gateEntrySchema>;

/** Validate gate entries (from a gates file or a workflow config) into gates; `where` names the source in errors. */
export function resolveGateEntries(entries: readonly GateEntry[], where: string): Gate[] {
  const gates = entries.map((raw, index) => {
    const at = `${where} (gate ${index + 1})`;
    const parsed = gateEntrySchema.safeParse(raw);
    if (!parsed.success) {
      throw new EdgeforgeError("INVALID_CONFIG", `${at} does not match the gate schema:\n${z.prettifyError(parsed.error)}`, {
        hint: "a gate is {metric, goal, value, priority}; see docs/decide.md",
        details: { where: at, issues: parsed.error.issues },
      });
    }
    const entry = parsed.data;
    const metric = requireMetricName(entry.metric, at);
    if (entry.op !== undefined && entry.goal !== "threshold") {
      throw new EdgeforgeError("INVALID_CONFIG", `${at}: "op" applies only to threshold goals, not ${entry.goal}`, {
        hint: "remove op, or use goal: threshold",
        details: { where: at },
      });
    }
    const value = entry.goal.startsWith("percent-") ? Number(String(entry.value).replace("%", "")) : typeof entry.value === "number" ? entry.value : parseMetricValue(metric, entry.value, at);
    if (!Number.isFinite(value) || (entry.goal !== "threshold" && value < 0)) {
      throw new EdgeforgeError("INVALID_CONFIG", `${at}: value ${String(entry.value)} does not fit a ${entry.goal} goal`, {
        hint: "improvement and degradation amounts are non-negative numbers (percent goals take percent points, e.g. 50)",
        details: { where: at, value: entry.value },
      });
    }
    const gate: Gate = { name: entry.name ?? metric, metric, goal: entry.goal, value, priority: entry.priority };
    if (entry.op !== undefined) gate.op = entry.op;
    return gate;
  });
  assertGatesConsistent(gates, undefined, where);
  return gates;
}

/** Parse a gates document already read (YAML or JSON text). */
export function parseGatesDocument(text: string, where: string): Gate[] {
  const document = parseConfigText(text, where);
  const result = gatesFileSchema.safeParse(document);
  if (!result.success) {
    throw new EdgeforgeError("INVALID_CONFIG", `${where} does not match the gates schema:\n${z.prettifyError(result.error)}`, {
      hint: "a gates file is `schemaVersion: 1` and `gates:` a list of {metric, goal, value, priority}; see docs/decide.md",
      details: { where, issues: result.error.issues },
    });
  }
  return resolveGateEntries(result.data.gates, where);
}

export async function readGatesFile(path: string, signal?: AbortSignal): Promise<Gate[]> {
  let text: string;
  try {
    text = await readFile(path, { encoding: "utf8", signal });
  } catch (error) {
    throw fileError(error, path, "read");
  }
  return parseGatesDocument(text, path);
}

const goalFlagPattern = /^\s*([A-Za-z][A-Za-z0-9]*)\s+([a-z-]+)\s+(\S+)\s*$/;

/**
 * A gate from a flag: `accuracyRetention >= 95%` (threshold) or `p50LatencyMs percent-min-improvement 50`,
 * either with an optional ` priority N` suffix.
 */
export function parseGateFlag(text: string): Gate {
  const where = `--gate "${text}"`;
  const priorityMatch = /\s+priority\s+(\d+)\s*$/i.exec(text);
  const priority = priorityMatch ? Number(priorityMatch[1]) : 1;
  const body = priorityMatch ? text.slice(0, priorityMatch.index) : text;
  const goalMatch = goalFlagPattern.exec(body);
  if (goalMatch && (goalTypes as readonly string[]).includes(goalMatch[2] as string)) {
    const [gate] = resolveGateEntries([{ metric: goalMatch[1] as string, goal: goalMatch[2] as Gate["goal"], value: goalMatch[3] as string, priority }], where);
    return gate as Gate;
  }
  if (goalMatch) {
    throw new EdgeforgeError("INVALID_CONFIG", `unknown goal "${goalMatch[2]}" in ${where}`, {
      hint: `goals: ${goalTypes.join(", ")}; or write METRIC OP VALUE`,
      details: { where },
    });
  }
  const constraint = parseConstraint(body, where);
  return { name: constraint.metric, metric: constraint.metric, goal: "threshold", op: constraint.op, value: constraint.value, priority };
}
