import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import type { ModelMonitoringResponse } from "../../src/monitor/model-monitor.js";
import { Registry } from "../../src/registry/registry.js";
import { startInferenceServer, type InferenceServer } from "../../src/server/start-server.js";
import { loadMnistSplit } from "../fixtures/mnist-classifier.js";
import { writeMnistJsonl } from "../fixtures/mnist-drift-inputs.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";
import { runCli } from "../fixtures/run-cli.js";
import { startServeCli, waitFor } from "../fixtures/serve-test-helpers.js";

/** `edgeforge monitor` against a real server on loopback, and `edgeforge alerts` from a certification file and from the registry. */
const temp = useTempDir("edgeforge-monitor-cli-");
let server: InferenceServer;

/** certification.json's monitoring block as `certify` writes it (p99 null: certify had no p99 to derive a budget from). */
const certification = (p99BudgetMs: number | null) => ({
  schemaVersion: 1,
  kind: "edgeforge.certification",
  monitoring: { schemaVersion: 1, latency: { p95BudgetMs: 20, p99BudgetMs, source: "requirements file" }, errorRateThreshold: 0.02, expectedConcurrency: 2, referenceProfile: {} },
});

beforeAll(async () => {
  const { train, test } = loadMnistSplit(20, 10);
  const reference = await writeMnistJsonl(temp.join("reference.jsonl"), train);
  server = await startInferenceServer({ port: 0, models: [{ name: "mnist", path: sharedModels.mnist8Onnx, reference }], monitoring: { windowRequests: 100, intervalMs: 100 } });
  await server.loaded;
  for (const digit of test) {
    const body = JSON.stringify({ inputs: [{ name: "Input3", datatype: "FP32", shape: [1, 1, 28, 28], data: Array.from(digit.pixels) }] });
    await (await fetch(`${server.url}/v2/models/mnist/infer`, { method: "POST", headers: { "content-type": "application/json" }, body })).arrayBuffer();
  }
  await waitFor(
    async () => {
      const version = ((await (await fetch(`${server.url}/v2/models/mnist/monitoring`)).json()) as ModelMonitoringResponse).versions[0]!;
      return version.drift.evaluatedAtRequest === 100;
    },
    10_000,
    "the drift evaluation",
  );
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe("edgeforge monitor URL", () => {
  it("--once prints p50/p95/p99, error rate, throughput and drift for every served model", async () => {
    const result = await runCli(["monitor", server.url, "--once"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/model:version\s+ready\s+window\s+p50 ms\s+p95 ms\s+p99 ms\s+errors\s+req\/s\s+drift/);
    expect(result.stderr).toMatch(/mnist:1\s+yes\s+100 \/ [\d.]+ s\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+0\.00 %\s+[\d.]+\s+(ok|DRIFTED) \d\/7/);
    expect(result.stderr).toContain("mnist:1 drift (reference 200 rows, window 100): Input3.mean ks");
    expect(result.stdout).toBe("");
  });

  it("--json gives the endpoint's JSON; --count/--interval repeat the view", async () => {
    const json = await runCli(["monitor", server.url, "--once", "--json", "--model", "mnist"]);
    expect(json.code, json.stderr).toBe(0);
    const [model] = JSON.parse(json.stdout) as ModelMonitoringResponse[];
    expect(model!.versions[0]).toMatchObject({ version: "1", window: { requests: 100 }, errorRate: 0, drift: { status: "evaluated", referenceRows: 200 } });
    expect(model!.versions[0]!.latencyMs!.p95).toBeGreaterThan(0);
    const repeated = await runCli(["monitor", server.url, "--count", "2", "--interval", "50"]);
    expect(repeated.code, repeated.stderr).toBe(0);
    expect(repeated.stderr.match(/^edgeforge monitor /gm)).toHaveLength(2);
  });

  it("names an unreachable server and an unknown model with typed errors", async () => {
    const down = await runCli(["monitor", "http://127.0.0.1:9", "--once"]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^error\[SERVER_UNREACHABLE\]: http:\/\/127\.0\.0\.1:9 did not answer/m);
    const unknown = await runCli(["monitor", server.url, "--once", "--model", "nope"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("error[MODEL_NOT_FOUND]");
  });
});

describe("edgeforge serve --reference", () => {
  it("passes the reference and the monitoring flags to the server; a bad reference is a typed error", async () => {
    const reference = temp.join("reference.jsonl");
    const served = await startServeCli(["--model", `mnist=${sharedModels.mnist8Onnx}`, "--reference", reference, "--reference-rows", "50", "--monitor-window", "40", "--monitor-interval", "100ms", "--drift-method", "psi"]);
    try {
      let version: ModelMonitoringResponse["versions"][number] | undefined;
      await waitFor(
        async () => {
          version = ((await (await fetch(`${served.url}/v2/models/mnist/monitoring`)).json()) as ModelMonitoringResponse).versions[0];
          return version?.ready === true;
        },
        60_000,
        "mnist to load with its reference",
      );
      expect(version).toMatchObject({ window: { capacityRequests: 40 }, drift: { reference: { rows: 50 }, method: "psi" } });
    } finally {
      await served.stop();
    }
    const missing = await runCli(["serve", "--port", "0", "--model", `mnist=${sharedModels.mnist8Onnx}`, "--reference", temp.join("nope.jsonl")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("error[FILE_NOT_FOUND]");
    const unnamed = await runCli(["serve", "--port", "0", "--model", `a=${sharedModels.mnist8Onnx}`, "--model", `b=${sharedModels.mnist8Onnx}`, "--reference", reference]);
    expect(unnamed.code).toBe(2);
    expect(unnamed.stderr).toContain("use --reference NAME=DATASET");
  }, 120_000);
});

describe("edgeforge alerts MODEL -o rules.yml", () => {
  it("from a certification file: rules, promtool tests and dashboard, checked by promtool when installed", async () => {
    const certificate = temp.join("certification.json");
    await writeFile(certificate, JSON.stringify(certification(45)));
    const result = await runCli(["alerts", "mnist", "--certificate", certificate, "-o", temp.join("out", "rules.yml"), "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const output = JSON.parse(result.stdout) as { budgets: { p95Ms: number; p99Ms: number; errorRate: number }; files: Record<string, string>; promtool: { available: boolean; test?: string } };
    expect(output.budgets).toMatchObject({ model: "mnist", p95Ms: 20, p99Ms: 45, errorRate: 0.02 });
    for (const file of Object.values(output.files)) expect(existsSync(file)).toBe(true);
    const rules = parseYaml(await readFile(output.files.rules!, "utf8")) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
    expect(rules.groups[0]!.rules.find((r) => r.alert === "EdgeforgeLatencyP95High")!.expr).toMatch(/> 0\.02$/);
    const dashboard = JSON.parse(await readFile(output.files.dashboard!, "utf8")) as { panels: Array<{ title: string }> };
    expect(dashboard.panels.map((p) => p.title)).toContain("p95 latency (budget 20 ms)");
    if (output.promtool.available) expect(output.promtool.test).toContain("SUCCESS");
    expect(result.stderr).toContain("budgets from");
  });

  it("from the registry's certification; a missing budget or certification is a typed error", async () => {
    const registryPath = temp.join("registry.db");
    {
      using registry = Registry.open(registryPath);
      const version = await registry.addVersion({ model: "digits", path: sharedModels.mnist8Onnx, command: "test" });
      registry.recordCertification({ artifactDigest: version.artifact.digest, approved: true, certificate: certification(null) });
    }
    const out = temp.join("registry", "rules.yml");
    const missing = await runCli(["alerts", "digits@1", "--registry", registryPath, "-o", out]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/error\[INVALID_CONFIG\]: certification of digits@1 \(registry\) records no p99 budget/);
    expect(missing.stderr).toContain("--p99-ms");
    const ok = await runCli(["alerts", "digits@1", "--registry", registryPath, "--name", "mnist", "--p99-ms", "60", "-o", out]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await readFile(out, "utf8")).toContain('edgeforge_request_duration_seconds_bucket{model="mnist",status=~"2.."}[5m]))) > 0.06');
    const none = await runCli(["alerts", "nothing@1", "--registry", registryPath, "-o", out]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("error[REGISTRY_NOT_FOUND]");
  });
});
