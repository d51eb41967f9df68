import { readFile, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startInferenceServer, type InferenceServer } from "../../src/server/start-server.js";
import { createRandom, shuffled } from "../../src/stats/random.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";
import { evaluatedMonitoring, readMonitoring } from "../fixtures/serve-test-helpers.js";

/**
 * Drift of an LLM's prompts on a real server: tiny-fortunes (GGUF) served with a reference of 300
 * held-out fortune lines, then other lines of the same shuffled file (no drift), then encoded data of
 * the same lengths (drift in the characters per token and the common-token share).
 */
const temp = useTempDir("edgeforge-serve-llm-drift-");
const windowRequests = 40;
let server: InferenceServer;
let fortunes: string[];

/** A completion, or a chat with the prompt as its one user message: features come from the text the client sent either way. */
const complete = async (prompt: string, chat = false): Promise<number> => {
  const body = chat ? { model: "fortunes", messages: [{ role: "user", content: prompt }], max_tokens: 1, temperature: 0 } : { model: "fortunes", prompt, max_tokens: 1, temperature: 0 };
  const response = await fetch(`${server.url}/v1/${chat ? "chat/completions" : "completions"}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  await response.arrayBuffer();
  return response.status;
};
const monitoring = () => readMonitoring(server.url, "fortunes");
const evaluated = () => evaluatedMonitoring(server.url, "fortunes");

beforeAll(async () => {
  // Shuffled, so that the reference and the streams come from one distribution (the file is in alphabetical order).
  fortunes = shuffled((await readFile(sharedModels.heldoutText, "utf8")).split("\n").filter((line) => line.trim().length >= 12), createRandom(8));
  const reference = temp.join("prompts.txt");
  await writeFile(reference, `${fortunes.slice(0, 300).join("\n")}\n`);
  server = await startInferenceServer({ port: 0, threads: 1, contextSize: 256, models: [{ name: "fortunes", path: sharedModels.tinyLlamaF16, reference }], monitoring: { windowRequests, intervalMs: 100 } });
  await server.loaded;
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe("serve --reference for a GGUF model: drift of the prompts", () => {
  it("monitors the prompts' length, characters per token and common-token share; no drift for prompts like the reference (completions and chats)", async () => {
    const before = (await monitoring()).versions[0]!;
    expect(before.features).toEqual([
      { name: "prompt.tokens", kind: "numeric" },
      { name: "prompt.charsPerToken", kind: "numeric" },
      { name: "prompt.commonTokenShare", kind: "numeric" },
    ]);
    expect(before.drift).toMatchObject({ status: "too-few-rows", reference: { rows: 300 } });
    for (const [i, prompt] of fortunes.slice(300, 300 + windowRequests).entries()) expect(await complete(prompt, i % 2 === 1)).toBe(200);
    const version = await evaluated();
    expect(version.window.requests).toBe(windowRequests);
    expect(version.drift).toMatchObject({ status: "evaluated", referenceRows: 300, windowRows: windowRequests, drifted: false });
    expect(version.drift.features.map((f) => f.method)).toEqual(["ks", "ks", "ks"]);
  }, 120_000);

  it("flags prompts of encoded data as drifted, in the JSON and the gauge", async () => {
    const random = createRandom(9);
    const encoded = (length: number) => Buffer.from(Array.from({ length }, () => random.int(0, 256))).toString("base64").slice(0, length);
    for (const prompt of fortunes.slice(400, 400 + windowRequests)) expect(await complete(encoded(prompt.length))).toBe(200);
    const version = await evaluated();
    expect(version.drift.drifted).toBe(true);
    const byName = Object.fromEntries(version.drift.features.map((f) => [f.feature, f]));
    expect(byName["prompt.charsPerToken"]?.drifted).toBe(true);
    expect(byName["prompt.commonTokenShare"]?.drifted).toBe(true);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^edgeforge_drifted\{model="fortunes",version="1"\} 1$/m);
  }, 120_000);
});
