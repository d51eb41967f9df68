import { execFileSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { latencySeriesFor, type AlertBudgets } from "../../src/monitor/alert-budgets.js";
import { alertNames, buildAlertRules } from "../../src/monitor/alert-rules.js";
import { buildGrafanaDashboard } from "../../src/monitor/grafana-dashboard.js";
import { alertFilePaths, spawnPromtoolChecks, writeAlertFiles } from "../../src/monitor/write-alert-files.js";
import { createServerMetrics } from "../../src/server/server-metrics.js";
import { useTempDir } from "../fixtures/temp-dir.js";

/** Debian's `prometheus` package (.ci/run installs it); without it only the promtool checks are skipped. */
const hasPromtool = (() => {
  try {
    execFileSync("promtool", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

const temp = useTempDir("edgeforge-alerts-");
const budgetSets: AlertBudgets[] = [
  { model: "mnist", latency: latencySeriesFor("onnx"), p95Ms: 25, p99Ms: 40, errorRate: 0.01, throughputDropShare: 0.5, minBaselineRps: 0.1, source: "test" },
  // odd values: sub-millisecond budgets, a high error threshold, a shallow drop share
  { model: "rec.v2_int8", latency: latencySeriesFor("onnx"), p95Ms: 0.37, p99Ms: 1234.5, errorRate: 0.5, throughputDropShare: 0.9, minBaselineRps: 2, source: "test" },
  // an LLM: certified on prompts alone, so watched on its time to first token
  { model: "fortunes", latency: latencySeriesFor("gguf"), p95Ms: 8.3, p99Ms: 8.3, errorRate: 0.01, throughputDropShare: 0.5, minBaselineRps: 0.1, source: "test" },
];

describe("alert rules over the server's metric names", () => {
  it("have the six agreed names and select only metrics the server exports", () => {
    const exported = new Set(createServerMetrics().registry.getMetricsAsArray().flatMap((m) => (String(m.type) === "histogram" ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name])));
    const rules = buildAlertRules(budgetSets[0]!).groups[0]!.rules;
    expect(rules.map((r) => r.alert)).toEqual([...alertNames]);
    const exprs = budgetSets.flatMap((budgets) => [...buildAlertRules(budgets).groups[0]!.rules.map((r) => r.expr), ...buildGrafanaDashboard(budgets).panels.flatMap((p) => p.targets.map((t) => t.expr))]);
    const used = new Set(exprs.flatMap((expr) => [...expr.matchAll(/\b(edgeforge_[a-z_]+)\b/g)].map((m) => m[1]!)));
    expect(used.size).toBeGreaterThanOrEqual(10);
    for (const name of used) expect(exported, name).toContain(name);
  });

  it("watch an LLM's latency budgets on time to first token (what certify timed), an ONNX model's on 2xx request duration", () => {
    const latencyExpr = (budgets: AlertBudgets) => buildAlertRules(budgets).groups[0]!.rules.find((r) => r.alert === "EdgeforgeLatencyP99High")!.expr;
    expect(latencyExpr(budgetSets[2]!)).toContain('rate(edgeforge_time_to_first_token_seconds_bucket{model="fortunes"}[5m])');
    expect(latencyExpr(budgetSets[0]!)).toContain('rate(edgeforge_request_duration_seconds_bucket{model="mnist",status=~"2.."}[5m])');
    expect(buildGrafanaDashboard(budgetSets[2]!).panels[0]?.title).toBe("p95 time to first token (budget 8.3 ms)");
  });

  it.skipIf(!hasPromtool).each(budgetSets)("promtool check rules and promtool test rules pass ($model)", async (budgets) => {
    const files = alertFilePaths(temp.join(`${budgets.model}.yml`));
    await writeAlertFiles(budgets, files);
    const result = await spawnPromtoolChecks(files);
    expect(result.available).toBe(true);
    expect(result.check).toContain("SUCCESS: 6 rules found");
    expect(result.test).toContain("SUCCESS");
    const tests = parseYaml(await readFile(files.tests, "utf8")) as { tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }> };
    const firing = new Set(tests.tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
    expect([...firing].sort()).toEqual([...alertNames].sort());
  });

  it.skipIf(!hasPromtool)("the promtool tests fail when a rule's threshold is wrong", async () => {
    const files = alertFilePaths(temp.join("loose.yml"));
    await writeAlertFiles(budgetSets[0]!, files);
    const rules = await readFile(files.rules, "utf8");
    await writeFile(files.rules, rules.replace("> 0.025\n", "> 10\n"));
    await expect(spawnPromtoolChecks(files)).rejects.toMatchObject({ code: "INTERNAL", message: expect.stringContaining("EdgeforgeLatencyP95High") });
  });
});
