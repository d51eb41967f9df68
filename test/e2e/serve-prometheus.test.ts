import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startInferenceServer, type InferenceServer } from "../../src/server/start-server.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";
import { waitFor } from "../fixtures/serve-test-helpers.js";

/** The /metrics exposition checked by promtool and scraped by a real Prometheus (Debian package) on loopback. */
const temp = useTempDir("serve-prometheus-");
let server: InferenceServer;
let prometheus: ChildProcess | undefined;

async function freeLoopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (typeof address !== "object" || !address) throw new Error("no port");
  return address.port;
}

const digitRequest = (value: number): string => JSON.stringify({ inputs: [{ name: "Input3", shape: [1, 1, 28, 28], datatype: "FP32", data: Array.from({ length: 784 }, (_, i) => ((i * value) % 97) / 97) }] });

beforeAll(async () => {
  server = await startInferenceServer({ port: 0, models: [{ name: "digits", path: sharedModels.mnist8Onnx }], threads: 1 });
  await server.loaded;
  for (let i = 1; i <= 5; i += 1) {
    const response = await fetch(`${server.url}/v2/models/digits/infer`, { method: "POST", body: digitRequest(i) });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
  }
});

afterAll(async () => {
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((resolve) => prometheus!.once("exit", resolve));
    prometheus.kill("SIGTERM");
    const timer = setTimeout(() => prometheus!.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
  await server?.close();
});

describe("edgeforge serve: Prometheus metrics", () => {
  it("promtool check metrics accepts the exposition, which has the histograms, counters and gauges", async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8", timeout: 30_000 });
    expect(check.stdout + check.stderr).toBe("");
    expect(check.status).toBe(0);
    for (const histogram of ["edgeforge_request_duration_seconds", "edgeforge_queue_wait_seconds", "edgeforge_inference_duration_seconds", "edgeforge_request_input_bytes", "edgeforge_prediction_confidence", "edgeforge_time_to_first_token_seconds", "edgeforge_inter_token_latency_seconds"]) {
      expect(text).toContain(`# TYPE ${histogram} histogram`);
    }
    expect(text).toMatch(/edgeforge_requests_total\{model="digits",version="1",protocol="oip",status="200"\} 5/);
    expect(text).toMatch(/edgeforge_prediction_confidence_count\{model="digits",version="1"\} 5/);
    expect(text).toMatch(/edgeforge_model_memory_bytes\{model="digits",version="1"\} [1-9]/);
    expect(text).toMatch(/edgeforge_queue_depth\{model="digits",version="1"\} 0/);
  });

  it("a real Prometheus scrapes /metrics and answers histogram_quantile(0.95, …) over its HTTP API", async () => {
    const port = await freeLoopbackPort();
    const target = new URL(server.url).host;
    const configPath = temp.join("prometheus.yml");
    await writeFile(configPath, `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: edgeforge\n    static_configs:\n      - targets: ["${target}"]\n`);
    prometheus = spawn("prometheus", [`--config.file=${configPath}`, `--storage.tsdb.path=${temp.join("tsdb")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    prometheus.stderr!.on("data", (chunk: Buffer) => (log += chunk.toString()));
    const query = `histogram_quantile(0.95, sum by (le) (edgeforge_request_duration_seconds_bucket{model="digits"}))`;
    let value: number | undefined;
    await waitFor(
      async () => {
        const response = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(query)}`);
        const body = (await response.json()) as { status: string; data: { result: { value: [number, string] }[] } };
        const sample = body.data.result[0];
        if (body.status !== "success" || !sample) return false;
        value = Number(sample.value[1]);
        return true;
      },
      60_000,
      `Prometheus to scrape ${target} (log: ${log})`,
    );
    // The p95 of five requests lies inside the histogram's buckets: a positive, finite number of seconds.
    expect(value).toBeGreaterThan(0);
    expect(Number.isFinite(value)).toBe(true);
    const targets = (await (await fetch(`http://127.0.0.1:${port}/api/v1/targets`)).json()) as { data: { activeTargets: { health: string }[] } };
    expect(targets.data.activeTargets[0]!.health).toBe("up");
  });
});
