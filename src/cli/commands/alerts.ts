import { resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { alertFilePaths, readAlertBudgetsFromFile, readAlertBudgetsFromRegistry, spawnPromtoolChecks, writeAlertFiles, type BudgetOverrides } from "../../api/monitor.js";
import { printHuman, printJson } from "../output.js";

interface AlertsFlags {
  output: string;
  certificate?: string;
  registry?: string;
  name?: string;
  p95Ms?: number;
  p99Ms?: number;
  errorRate?: number;
  throughputDrop?: number;
  tests?: string;
  dashboard?: string;
  json?: boolean;
}

function parseMs(value: string): number {
  const ms = Number(value);
  if (!Number.isFinite(ms) || ms <= 0) throw new InvalidArgumentError("expected a positive number of milliseconds, e.g. 25 or 0.5");
  return ms;
}

function parseShare(value: string): number {
  const share = Number(value);
  if (!Number.isFinite(share) || share <= 0 || share > 1) throw new InvalidArgumentError("expected a share in (0, 1], e.g. 0.01");
  return share;
}

export function registerAlertsCommand(program: Command): void {
  program
    .command("alerts")
    .description("Prometheus alerting rules (latency p95/p99, error rate, throughput drop, drift, not ready) from a model's certification, with promtool unit tests and a Grafana dashboard")
    .argument("<model>", "registry reference (name@alias, name@version, name); with --certificate: the served model name")
    .requiredOption("-o, --output <rules.yml>", "the rules file; the tests (<stem>.test.yml) and dashboard (<stem>.dashboard.json) go beside it")
    .option("--certificate <certification.json>", "read the budgets from this certification instead of the registry")
    .option("--registry <path>", "registry database (default: EDGEFORGE_REGISTRY or ~/.edgeforge/registry.db)")
    .option("--name <served-name>", "the model label the server uses (default: the registry model's name)")
    .option("--p95-ms <ms>", "p95 budget, overriding the certification's", parseMs)
    .option("--p99-ms <ms>", "p99 budget, overriding the certification's", parseMs)
    .option("--error-rate <share>", "5xx share, overriding the certification's errorRateThreshold", parseShare)
    .option("--throughput-drop <share>", "alert when requests/s fall below this share of an hour earlier (default 0.5)", parseShare)
    .option("--tests <file>", "where to write the promtool unit tests")
    .option("--dashboard <file>", "where to write the Grafana dashboard JSON")
    .option("--json", "print the budgets, files and promtool results as JSON on stdout")
    .action(async (model: string, flags: AlertsFlags) => {
      const overrides: BudgetOverrides = {
        ...(flags.p95Ms === undefined ? {} : { p95Ms: flags.p95Ms }),
        ...(flags.p99Ms === undefined ? {} : { p99Ms: flags.p99Ms }),
        ...(flags.errorRate === undefined ? {} : { errorRate: flags.errorRate }),
        ...(flags.throughputDrop === undefined ? {} : { throughputDropShare: flags.throughputDrop }),
      };
      const budgets = flags.certificate
        ? await readAlertBudgetsFromFile(flags.name ?? model, flags.certificate, overrides)
        : readAlertBudgetsFromRegistry(model, flags.registry, overrides, flags.name);
      const files = alertFilePaths(resolve(flags.output), {
        ...(flags.tests ? { tests: resolve(flags.tests) } : {}),
        ...(flags.dashboard ? { dashboard: resolve(flags.dashboard) } : {}),
      });
      await writeAlertFiles(budgets, files);
      const promtool = await spawnPromtoolChecks(files);
      if (flags.json) printJson({ budgets, files, promtool });
      printHuman(
        [
          `alert rules for "${budgets.model}": p95 ${budgets.p95Ms} ms, p99 ${budgets.p99Ms} ms, errors ${budgets.errorRate}, throughput drop below ${budgets.throughputDropShare} of an hour earlier (budgets from ${budgets.source})`,
          `  rules      ${files.rules}`,
          `  tests      ${files.tests}`,
          `  dashboard  ${files.dashboard}`,
          promtool.available ? `  promtool check rules: ${promtool.check?.split("\n").at(-1)?.trim()} · promtool test rules: ${promtool.test?.split("\n").at(-1)?.trim()}` : "  promtool is not installed: the rules were not checked (apt install prometheus)",
        ].join("\n"),
      );
    });
}
