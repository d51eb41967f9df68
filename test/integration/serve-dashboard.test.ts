import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DashboardIndex } from "../../src/server/dashboard-routes.js";
import { startInferenceServer, type InferenceServer } from "../../src/server/start-server.js";
import { writeCertifiedGguf } from "../fixtures/certified-gguf.js";
import { llmTestThreads } from "../fixtures/llm-models.js";
import { loadMnistSplit } from "../fixtures/mnist-classifier.js";
import { brighten, writeMnistJsonl } from "../fixtures/mnist-drift-inputs.js";
import { repoRoot, sharedModels } from "../fixtures/shared-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";
import { waitFor } from "../fixtures/serve-test-helpers.js";

/** The real server with mnist-8 (drift reference) and the certified tiny-fortunes Q4_K_M; the page in Debian Chromium under load. */
const temp = useTempDir("edgeforge-dashboard-");
const { train: referenceDigits, test: streamDigits } = loadMnistSplit(40, 40);
let server: InferenceServer;

/** Requests in the background until stopped: mnist digits (brightened after a while, so drift appears) and short completions. */
function startLoad(): { stop: () => Promise<number> } {
  let running = true;
  let sent = 0;
  const mnist = (async () => {
    while (running) {
      const digit = streamDigits[sent % streamDigits.length]!;
      const pixels = sent > 120 ? brighten(digit.pixels, 0.5) : digit.pixels;
      const body = JSON.stringify({ inputs: [{ name: "Input3", datatype: "FP32", shape: [1, 1, 28, 28], data: Array.from(pixels) }] });
      await (await fetch(`${server.url}/v2/models/mnist/infer`, { method: "POST", headers: { "content-type": "application/json" }, body })).arrayBuffer();
      sent += 1;
    }
  })();
  const llm = (async () => {
    while (running) {
      const response = await fetch(`${server.url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "fortunes", prompt: "The wise man", max_tokens: 6, temperature: 0 }) });
      await response.arrayBuffer();
      sent += 1;
    }
  })();
  return {
    stop: async () => {
      running = false;
      await Promise.all([mnist, llm]);
      return sent;
    },
  };
}

beforeAll(async () => {
  const certified = await writeCertifiedGguf(temp.path);
  const reference = await writeMnistJsonl(temp.join("reference.jsonl"), referenceDigits);
  server = await startInferenceServer({
    port: 0,
    threads: llmTestThreads,
    contextSize: 128,
    models: [
      { name: "mnist", path: sharedModels.mnist8Onnx, reference },
      { name: "fortunes", version: "q4", path: certified.artifact, certification: certified.certificationDir },
    ],
    monitoring: { windowRequests: 100, intervalMs: 200 },
  });
  await server.loaded;
}, 300_000);

afterAll(async () => {
  await server?.close(1000);
});

describe("/dashboard", () => {
  it("lists the served versions, the routes it can read and the certification summary", async () => {
    const index = (await (await fetch(`${server.url}/dashboard/models`)).json()) as DashboardIndex;
    expect(index.endpoints).toEqual({ monitoring: true, rollout: true, events: true });
    expect(index.models.map((m) => `${m.name}:${m.version}:${m.format}`)).toEqual(["mnist:1:onnx", "fortunes:q4:gguf"]);
    const fortunes = index.models[1]!;
    expect(fortunes.certification).toMatchObject({ approved: true, artifact: { name: "fortunes-q4_k_m.gguf", format: "gguf" }, budgets: { p95Ms: 10000, p99Ms: 20000, errorRate: 0.01 } });
    expect(index.models[0]!.certification).toBeNull();
    const page = await fetch(`${server.url}/dashboard`);
    expect(page.headers.get("content-type")).toContain("text/html");
    const html = await page.text();
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="(?!data:)|https?:\/\/(?!127\.0\.0\.1)[a-z]/i);
  });

  it("in headless Chromium under load: charts drawn, values change between two screenshots, no console errors, no request leaves the server", async () => {
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
    const load = startLoad();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1600 } });
      const consoleErrors: string[] = [];
      const foreign: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") consoleErrors.push(message.text());
      });
      page.on("pageerror", (error) => consoleErrors.push(error.message));
      page.on("request", (request) => {
        if (!request.url().startsWith(server.url)) foreign.push(request.url());
      });
      await page.goto(`${server.url}/dashboard?interval=400`, { waitUntil: "load" });
      await page.waitForFunction('Number(document.body.getAttribute("data-updates")) >= 3', undefined, { timeout: 30_000 });
      const snapshot = async (name: string) => {
        const path = join(repoRoot, "test-output", name);
        await mkdir(join(repoRoot, "test-output"), { recursive: true });
        await page.screenshot({ path, fullPage: true });
        return {
          png: await readFile(path),
          updates: Number(await page.getAttribute("body", "data-updates")),
          figures: await page.locator("#model-mnist [data-chart=rate] + .figures").getAttribute("data-figures"),
          ratePoints: Number(await page.locator("#model-mnist canvas[data-chart=rate]").getAttribute("data-points")),
          latencyPoints: Number(await page.locator("#model-fortunes canvas[data-chart=latency]").getAttribute("data-points")),
        };
      };
      const first = await snapshot("dashboard-1.png");
      await waitFor(async () => Number(await page.getAttribute("body", "data-updates")) >= first.updates + 4, 30_000, "four more dashboard updates");
      // drift appears once the brightened digits fill the window
      await page.waitForFunction('(document.querySelector("#model-mnist .drift .figures")?.textContent ?? "").includes("DRIFTED")', undefined, { timeout: 60_000 });
      const second = await snapshot("dashboard-2.png");

      expect(await page.getAttribute("body", "data-charts")).toBe("drawn");
      expect(first.ratePoints).toBeGreaterThan(0);
      expect(second.ratePoints).toBeGreaterThan(first.ratePoints);
      expect(second.latencyPoints).toBeGreaterThan(0);
      expect(second.figures).not.toBe(first.figures);
      expect(Buffer.compare(first.png, second.png)).not.toBe(0);
      expect(await page.locator("#model-fortunes .certification").textContent()).toContain("approved");
      expect(await page.locator("#model-fortunes .events").textContent()).toContain("not available for this model: the server has no registry");
      expect(await page.locator("#model-fortunes .split").textContent()).toContain("state idle");
      expect(await page.locator("#model-mnist .drift canvas").getAttribute("data-points")).toBe("7");
      expect(consoleErrors).toEqual([]);
      expect(foreign).toEqual([]);
    } finally {
      const sent = await load.stop();
      expect(sent).toBeGreaterThan(50);
      await browser.close();
    }
  }, 180_000);
});
