import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Registry } from "../../src/registry/registry.js";
import type { RolloutStatus } from "../../src/rollout/rollout-status.js";
import { writeMnistBatchVariants } from "../fixtures/mnist-batch-variants.js";
import { useTempDir } from "../fixtures/temp-dir.js";
import { runCli } from "../fixtures/run-cli.js";
import { seededFloats, startServeCli, testToken, waitFor, type ServeProcess } from "../fixtures/serve-test-helpers.js";

/**
 * The built CLI end to end: `edgeforge serve` from a registry, `edgeforge rollout` against it, the server
 * killed (SIGKILL) mid-rollout and started again: it resumes from the registry's state.
 */
const tmp = useTempDir("rollout-restart-");
const pixels = Array.from(seededFloats(784));
let server: ServeProcess | undefined;
let registryPath: string;
let tokenFile: string;

const serve = () => startServeCli(["--model", "digits@production", "--registry", registryPath, "--token-file", tokenFile, "--isolation", "thread"]);
const cli = (args: string[]) => runCli([...args, "--server", server!.url, "--token-file", tokenFile]);
const status = async (): Promise<RolloutStatus> => (await (await fetch(`${server!.url}/v2/models/digits/rollout`)).json()) as RolloutStatus;

/** Requests until `until()` holds; returns the HTTP statuses seen. */
async function loadUntil(until: () => Promise<boolean>, what: string): Promise<number[]> {
  const statuses: number[] = [];
  const deadline = Date.now() + 60_000;
  for (let i = 0; !(await until()); i += 1) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    for (let j = 0; j < 10; j += 1) {
      const response = await fetch(`${server!.url}/v2/models/digits/infer`, { method: "POST", body: JSON.stringify({ id: `r${i}-${j}`, inputs: [{ name: "Input3", shape: [1, 1, 28, 28], datatype: "FP32", data: pixels }] }) });
      statuses.push(response.status);
      await response.arrayBuffer();
    }
  }
  return statuses;
}

beforeAll(async () => {
  const variants = await writeMnistBatchVariants(tmp.path);
  registryPath = tmp.join("registry.db");
  tokenFile = tmp.join("tokens.txt");
  await writeFile(tokenFile, `${testToken}\n`);
  using registry = Registry.open(registryPath);
  await registry.addVersion({ model: "digits", path: variants.stable, version: "1", command: "test" });
  await registry.addVersion({ model: "digits", path: variants.good, version: "2", command: "test" });
  registry.setAlias({ model: "digits", alias: "production", version: "1", reason: "first release", command: "test" });
}, 60_000);

afterAll(async () => {
  await server?.stop("SIGKILL");
});

describe("edgeforge rollout with a server restarted mid-rollout", () => {
  it("validates before contacting the server, then resumes a killed server's rollout from the registry and promotes it", async () => {
    server = await serve();
    await waitFor(async () => (await fetch(`${server!.url}/v2/health/ready`)).ok, 60_000, "the stable model");

    const badFile = tmp.join("bad-analysis.yaml");
    await writeFile(badFile, "steps: [50, 10]\n");
    const refused = await cli(["rollout", "start", "digits", "--candidate", "2", "--analysis", badFile]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/error\[INVALID_CONFIG\]: .*bad-analysis.yaml: steps: weights must increase: 50 then 10/);
    expect(refused.stderr).toMatch(/hint: /);
    expect((await runCli(["rollout", "abort", "digits", "--server", server.url])).stderr).toMatch(/error\[UNAUTHORIZED\]/);

    const analysis = tmp.join("analysis.yaml");
    await writeFile(analysis, "schemaVersion: 1\nminRequests: 5\nsuccessRate: { min: 0.95 }\nlatencyP99: { maxMs: 60000 }\n");
    const started = await cli(["rollout", "start", "digits", "--candidate", "2", "--steps", "10,50,100", "--interval", "1s", "--analysis", analysis, "--json"]);
    expect(started.code, started.stderr).toBe(0);
    expect(JSON.parse(started.stdout)).toMatchObject({ state: "progressing", stepIndex: 0, candidate: { version: "2", weight: 0.1 } });

    await loadUntil(async () => (await status()).stepIndex >= 1, "step 2");
    const beforeKill = await status();
    expect(beforeKill.state).not.toBe("promoted");
    await server.stop("SIGKILL");

    server = await serve();
    await waitFor(async () => (await status()).decisions.some((d) => d.kind === "resumed"), 60_000, "the rollout to resume");
    const resumed = await status();
    expect(resumed.state).toMatch(/progressing|paused/);
    expect(resumed.stepIndex).toBe(beforeKill.stepIndex);
    expect(resumed.candidate).toEqual({ version: "2", weight: (resumed.steps[resumed.stepIndex] ?? 0) / 100 });
    expect(resumed.decisions.find((d) => d.kind === "resumed")?.details).toMatchObject({ afterRestart: true, step: beforeKill.stepIndex });

    const statuses = await loadUntil(async () => (await status()).state === "promoted", "promotion after the restart");
    expect(new Set(statuses)).toEqual(new Set([200]));
    const shown = await cli(["rollout", "status", "digits", "--json"]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ state: "promoted", stable: { version: "2", weight: 1 }, candidate: null });
    expect(shown.stderr).toMatch(/digits: promoted/);
    using registry = Registry.open(registryPath, { readonly: true });
    expect(registry.resolve("digits@production").version).toBe("2");
  }, 240_000);
});
