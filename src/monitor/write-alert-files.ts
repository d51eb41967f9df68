import { basename, dirname, join } from "node:path";
import { stringify as toYaml } from "yaml";
import { writeFileAtomic } from "../core/atomic-write.js";
import { EdgeforgeError } from "../core/errors.js";
import { spawnCapture } from "../core/spawn-capture.js";
import type { AlertBudgets } from "./alert-budgets.js";
import { buildAlertRuleTests } from "./alert-rule-tests.js";
import { buildAlertRules } from "./alert-rules.js";
import { buildGrafanaDashboard } from "./grafana-dashboard.js";

export interface AlertFiles {
  rules: string;
  tests: string;
  dashboard: string;
}

/** Beside `rules.yml`: `rules.test.yml` and `rules.dashboard.json`. */
export function alertFilePaths(rulesPath: string, overrides: Partial<Omit<AlertFiles, "rules">> = {}): AlertFiles {
  const stem = basename(rulesPath).replace(/\.ya?ml$/i, "");
  return { rules: rulesPath, tests: overrides.tests ?? join(dirname(rulesPath), `${stem}.test.yml`), dashboard: overrides.dashboard ?? join(dirname(rulesPath), `${stem}.dashboard.json`) };
}

const header = (budgets: AlertBudgets): string => `# edgeforge alert rules for model "${budgets.model}"; budgets from ${budgets.source}\n`;

/** Write the rules, their promtool unit tests (which name the rules file relative to themselves) and the dashboard, each atomically. */
export async function writeAlertFiles(budgets: AlertBudgets, files: AlertFiles, signal?: AbortSignal): Promise<void> {
  const rulesRelative = dirname(files.tests) === dirname(files.rules) ? basename(files.rules) : files.rules;
  await writeFileAtomic(files.rules, header(budgets) + toYaml(buildAlertRules(budgets), { lineWidth: 0 }), signal);
  await writeFileAtomic(files.tests, header(budgets) + toYaml(buildAlertRuleTests(budgets, rulesRelative), { lineWidth: 0 }), signal);
  await writeFileAtomic(files.dashboard, `${JSON.stringify(buildGrafanaDashboard(budgets), null, 2)}\n`, signal);
}

export interface PromtoolCheck {
  /** False when `promtool` is not installed (the files were not checked). */
  available: boolean;
  check?: string;
  test?: string;
}

async function runPromtool(args: string[], cwd: string, signal?: AbortSignal): Promise<{ code: number | "missing"; output: string }> {
  const run = await spawnCapture("promtool", args, { cwd, timeoutMs: 60_000, ...(signal ? { signal } : {}) });
  if (!run.ok && run.missing) return { code: "missing", output: "" };
  return { code: run.ok ? 0 : (run.exitCode ?? 1), output: `${run.stdout}${run.stderr}`.trim() || (run.ok ? "" : run.reason) };
}

/** `promtool check rules` and `promtool test rules` on the written files (Prometheus' own checker), when promtool is installed. */
export async function spawnPromtoolChecks(files: AlertFiles, signal?: AbortSignal): Promise<PromtoolCheck> {
  const check = await runPromtool(["check", "rules", files.rules], dirname(files.rules), signal);
  if (check.code === "missing") return { available: false };
  if (check.code !== 0) throw new EdgeforgeError("INTERNAL", `promtool check rules rejected the generated rules: ${check.output}`, { hint: "this is a bug in edgeforge alerts; please report it with the budgets used" });
  const test = await runPromtool(["test", "rules", basename(files.tests)], dirname(files.tests), signal);
  if (test.code !== 0) throw new EdgeforgeError("INTERNAL", `promtool test rules failed on the generated tests: ${test.output}`, { hint: "this is a bug in edgeforge alerts; please report it with the budgets used" });
  return { available: true, check: check.output, test: test.output };
}
