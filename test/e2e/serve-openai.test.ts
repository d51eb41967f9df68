import { writeFile } from "node:fs/promises";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedModels } from "../fixtures/shared-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";
import { startServeCli, testToken, waitFor, type ServeProcess } from "../fixtures/serve-test-helpers.js";

/** `edgeforge serve` (built CLI) on tiny-fortunes, driven by the real `openai` client. */
const temp = useTempDir("serve-openai-");
let serve: ServeProcess;
let client: OpenAI;
let healthWhileLoading: number;

beforeAll(async () => {
  const tokenFile = temp.join("tokens");
  await writeFile(tokenFile, `# test tokens\n${testToken}\n`);
  serve = await startServeCli(["--model", `fortunes=${sharedModels.tinyLlamaF16}`, "--threads", "1", "--ctx", "256", "--token-file", tokenFile, "--auth", "inference", "--drain", "20000"]);
  // Loading needs a new process, node-llama-cpp and the model; the idle server answers this first.
  healthWhileLoading = (await fetch(`${serve.url}/health`)).status;
  await waitFor(async () => (await fetch(`${serve.url}/health`)).status === 200, 60_000, "the model to load");
  client = new OpenAI({ apiKey: testToken, baseURL: `${serve.url}/v1`, maxRetries: 0, timeout: 60_000 });
});

afterAll(async () => {
  await serve?.stop("SIGKILL");
});

const prompt = "A fool and his money";

describe("edgeforge serve: OpenAI-compatible API (openai client, tiny-fortunes GGUF)", () => {
  it("reports 503 while loading and 200 when ready; lists the model", async () => {
    expect(healthWhileLoading).toBe(503);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["fortunes"]);
  });

  it("chat completions: non-streamed and streamed (with the usage chunk) give the same greedy text", async () => {
    const request = { model: "fortunes", messages: [{ role: "user" as const, content: "Tell me my fortune." }], max_tokens: 12, temperature: 0 };
    const completion = await client.chat.completions.create(request);
    const text = completion.choices[0]!.message.content ?? "";
    expect(completion.object).toBe("chat.completion");
    expect(completion.choices[0]!.message.role).toBe("assistant");
    expect(text.length).toBeGreaterThan(0);
    expect(completion.usage!.completion_tokens).toBeGreaterThan(0);
    expect(completion.usage!.completion_tokens).toBeLessThanOrEqual(12);
    expect(completion.usage!.total_tokens).toBe(completion.usage!.prompt_tokens + completion.usage!.completion_tokens);

    const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const streamed = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(streamed).toBe(text);
    expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual(completion.usage);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe(completion.choices[0]!.finish_reason);
  });

  it("completions: non-streamed and streamed agree, finish_reason length at max_tokens", async () => {
    const completion = await client.completions.create({ model: "fortunes", prompt, max_tokens: 8, temperature: 0 });
    expect(completion.choices[0]!.finish_reason).toBe("length");
    expect(completion.usage!.completion_tokens).toBe(8);
    const stream = await client.completions.create({ model: "fortunes", prompt, max_tokens: 8, temperature: 0, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let usage;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(completion.choices[0]!.text);
    expect(usage).toEqual(completion.usage);
  });

  it("rejects a wrong token, a missing token and an unknown model with 4xx; the token never appears in the log", async () => {
    const wrong = new OpenAI({ apiKey: "not-the-token-0123456789", baseURL: `${serve.url}/v1`, maxRetries: 0 });
    await expect(wrong.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    expect((await fetch(`${serve.url}/v1/models`)).status).toBe(401);
    await expect(client.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({ status: 404 });
    await expect(client.chat.completions.create({ model: "fortunes", messages: [], max_tokens: 4 })).rejects.toMatchObject({ status: 400 });
    const malformed = await fetch(`${serve.url}/v1/completions`, { method: "POST", headers: { authorization: `Bearer ${testToken}`, "content-type": "application/json" }, body: "{" });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { message: string } }).error.message).toMatch(/not valid JSON/);
    expect((await fetch(`${serve.url}/health`)).status).toBe(200);
    expect(serve.stderr()).not.toContain(testToken);
  });

  it("SIGTERM drains: a stream in flight completes with [DONE], then the server exits 0", async () => {
    const response = await fetch(`${serve.url}/v1/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${testToken}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "fortunes", prompt, max_tokens: 40, temperature: 0, stream: true }),
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value!).toString()).toMatch(/^data: /);
    const exit = serve.stop("SIGTERM");
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += Buffer.from(chunk.value).toString();
    expect(rest.trimEnd().endsWith("data: [DONE]")).toBe(true);
    expect(await exit).toBe(0);
    expect(serve.stderr()).toMatch(/SIGTERM: draining/);
  });
});
