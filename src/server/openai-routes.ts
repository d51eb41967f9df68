import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { ChatMessage, GeneratedText } from "../api/serving-sessions.js";
import { httpFailure } from "./http-errors.js";
import { parseJsonBody } from "./parse-json-body.js";
import type { ServedModel } from "./model-repository.js";
import { requestDeadline, runScheduled, type Deadline } from "./scheduling.js";
import type { ServerContext } from "./server-context.js";
import { requestIdHeader } from "./traffic-split.js";
import type { GeneratedMessage } from "./worker-protocol.js";

const defaultMaxTokens = 16;

const samplingSchema = {
  model: z.string().min(1),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  n: z.literal(1).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
};

const completionSchema = z.object({ ...samplingSchema, prompt: z.union([z.string(), z.array(z.string()).length(1)]) });

const contentSchema = z.union([z.string(), z.array(z.object({ type: z.literal("text"), text: z.string() }))]);
const chatSchema = z.object({
  ...samplingSchema,
  messages: z.array(z.object({ role: z.enum(["system", "developer", "user", "assistant"]), content: contentSchema })).min(1),
});

function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  return parseJsonBody(schema, body, "see the OpenAI API reference; n must be 1");
}

type Sampling = z.infer<z.ZodObject<typeof samplingSchema>>;

function generationOptions(body: Sampling) {
  const stop = body.stop === undefined || body.stop === null ? undefined : Array.isArray(body.stop) ? body.stop : [body.stop];
  return {
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? defaultMaxTokens,
    ...(body.temperature === undefined || body.temperature === null ? {} : { temperature: body.temperature }),
    ...(body.top_p === undefined || body.top_p === null ? {} : { topP: body.top_p }),
    ...(body.seed === undefined || body.seed === null ? {} : { seed: body.seed }),
    ...(stop ? { stop } : {}),
  };
}

function usage(result: GeneratedText) {
  return { prompt_tokens: result.promptTokens, completion_tokens: result.completionTokens, total_tokens: result.promptTokens + result.completionTokens };
}

/** OpenAI-compatible API for GGUF models: /v1/models, /v1/completions, /v1/chat/completions (SSE streaming), /health. */
export function registerOpenAiRoutes(app: FastifyInstance, context: ServerContext): void {
  const { repository, metrics, config } = context;
  const llms = (): ServedModel[] => repository.list().filter((m) => m.format === "gguf");

  app.get("/health", async (_request, reply) => {
    const loading = llms().filter((m) => !m.unloaded && m.worker.state !== "ready");
    return reply.code(loading.length === 0 ? 200 : 503).send(loading.length === 0 ? { status: "ok" } : { status: "loading", models: loading.map((m) => m.spec.name) });
  });

  app.get("/v1/models", { config: { auth: "inference" } }, async () => ({
    object: "list",
    data: llms().filter((m, index, all) => all.findIndex((other) => other.spec.name === m.spec.name) === index).map((m) => ({ id: m.spec.name, object: "model", created: 0, owned_by: "edgeforge" })),
  }));

  const generate = async (mode: "completion" | "chat", request: FastifyRequest, reply: FastifyReply) => {
    const started = process.hrtime.bigint();
    const body = mode === "chat" ? parseBody(chatSchema, request.body) : parseBody(completionSchema, request.body);
    const model = repository.find(body.model, undefined, "gguf", () => requestIdHeader(request.headers["x-request-id"]));
    const bodyBytes = Buffer.isBuffer(request.body) ? request.body.byteLength : 0;
    metrics.inputSize.observe(model.labels, bodyBytes);
    const deadline = requestDeadline(request, config.deadlineMs);
    const id = `${mode === "chat" ? "chatcmpl" : "cmpl"}-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const object = mode === "chat" ? "chat.completion" : "text_completion";
    const message =
      "messages" in body
        ? {
            mode,
            messages: body.messages.map((m): ChatMessage => ({ role: m.role === "developer" ? "system" : m.role, content: typeof m.content === "string" ? m.content : m.content.map((part) => part.text).join("") })),
          }
        : { mode, prompt: typeof body.prompt === "string" ? body.prompt : body.prompt[0]! };
    const options = { ...message, ...generationOptions(body) };
    // The prompt's monitored features, from the worker's answer (none for a request that failed).
    let features: Float64Array | undefined;
    const record = (status: number): void => {
      const labels = { ...model.labels, protocol: "openai", status: String(status) };
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.requests.inc(labels);
      metrics.requestDuration.observe(labels, seconds);
      model.monitor.record({ latencyMs: seconds * 1000, status, ...(features && status < 300 ? { features } : {}) });
    };
    let lastTextAt: bigint | undefined;
    const onTextTiming = (): void => {
      const now = process.hrtime.bigint();
      if (lastTextAt === undefined) metrics.timeToFirstToken.observe(model.labels, Number(now - started) / 1e9);
      else metrics.interTokenLatency.observe(model.labels, Number(now - lastTextAt) / 1e9);
      lastTextAt = now;
    };
    const finish = (result: GeneratedMessage): void => {
      features = result.features;
      metrics.inferenceDuration.observe(model.labels, result.inferenceNs / 1e9);
      metrics.tokens.inc({ ...model.labels, direction: "prompt" }, result.result.promptTokens);
      metrics.tokens.inc({ ...model.labels, direction: "completion" }, result.result.completionTokens);
    };

    if (!body.stream) {
      try {
        const result = await runScheduled(model, deadline, metrics, () => model.worker.generate(options, onTextTiming, deadline.signal));
        finish(result);
        record(200);
        const choice =
          mode === "chat"
            ? { index: 0, message: { role: "assistant", content: result.result.text, refusal: null }, finish_reason: result.result.finishReason, logprobs: null }
            : { index: 0, text: result.result.text, finish_reason: result.result.finishReason, logprobs: null };
        // eslint-disable-next-line @typescript-eslint/return-await -- Fastify's reply is thenable: returned, it tells Fastify the handler has sent it; awaited, it would wait for the socket
        return reply.send({ id, object, created, model: model.spec.name, choices: [choice], usage: usage(result.result) });
      } catch (error) {
        record(httpFailure(error).status);
        throw error;
      }
    }
    return streamGeneration({ mode, id, created, model, deadline, includeUsage: body.stream_options?.include_usage === true, reply, options, onTextTiming, finish, record, context });
  };

  app.post("/v1/completions", { config: { auth: "inference" } }, (request, reply) => generate("completion", request, reply));
  app.post("/v1/chat/completions", { config: { auth: "inference" } }, (request, reply) => generate("chat", request, reply));
}

interface StreamArguments {
  mode: "completion" | "chat";
  id: string;
  created: number;
  model: ServedModel;
  deadline: Deadline;
  includeUsage: boolean;
  reply: FastifyReply;
  options: Parameters<ServedModel["worker"]["generate"]>[0];
  onTextTiming: () => void;
  finish: (result: GeneratedMessage) => void;
  record: (status: number) => void;
  context: ServerContext;
}

/**
 * Server-sent events: the slot is taken (or 429/504 answered as plain errors) before any byte is
 * written; then each text piece is one `data:` chunk, a final chunk carries finish_reason, an optional
 * usage chunk has `choices: []`, and `data: [DONE]` ends the stream.
 */
async function streamGeneration(args: StreamArguments): Promise<FastifyReply> {
  const { mode, id, created, model, deadline, includeUsage, reply, options } = args;
  const object = mode === "chat" ? "chat.completion.chunk" : "text_completion";
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
    `data: ${JSON.stringify({ id, object, created, model: model.spec.name, choices, ...(includeUsage ? { usage: null } : {}), ...extra })}\n\n`;
  const textChoice = (text: string, finishReason: string | null) =>
    mode === "chat" ? { index: 0, delta: text === "" && finishReason ? {} : { content: text }, finish_reason: finishReason, logprobs: null } : { index: 0, text, finish_reason: finishReason, logprobs: null };

  const client = new AbortController();
  const cancel = AbortSignal.any([deadline.signal, client.signal]);
  let started = false;
  const begin = (): void => {
    if (started) return;
    started = true;
    reply.hijack();
    reply.raw.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" });
    if (mode === "chat") reply.raw.write(chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null, logprobs: null }]));
  };
  // The response closing before it finished means the client went away: stop generating.
  reply.raw.on("close", () => {
    if (!reply.raw.writableFinished) client.abort();
  });
  try {
    const result = await runScheduled(model, { signal: cancel, ms: deadline.ms }, args.context.metrics, () => {
      begin();
      return model.worker.generate(
        options,
        (text) => {
          args.onTextTiming();
          reply.raw.write(chunk([textChoice(text, null)]));
        },
        cancel,
      );
    });
    args.finish(result);
    reply.raw.write(chunk([textChoice("", result.result.finishReason)]));
    if (includeUsage) reply.raw.write(`data: ${JSON.stringify({ id, object, created, model: model.spec.name, choices: [], usage: usage(result.result) })}\n\n`);
    reply.raw.end("data: [DONE]\n\n");
    args.record(200);
    // eslint-disable-next-line @typescript-eslint/return-await -- Fastify's reply is thenable: returned, it tells Fastify the handler has sent it; awaited, it would wait for the socket
    return reply;
  } catch (error) {
    const failure = httpFailure(error);
    args.record(failure.status);
    if (!started) throw error;
    // Headers are gone: report in-band, the way OpenAI streams report errors.
    reply.raw.end(`data: ${JSON.stringify({ error: { message: failure.message, type: "server_error", code: failure.code } })}\n\n`);
    return reply;
  }
}
