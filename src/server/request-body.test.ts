import { createServer, request as httpRequest, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BodyPool, readRequestBody } from "./request-body.js";

/** A real loopback server whose handler reads each body with readRequestBody and answers what it got. */
const pool = new BodyPool();
const limitBytes = 1024 * 1024;
const seen: { body?: Buffer; under?: ArrayBufferLike; error?: Error & { statusCode?: number; code?: string } }[] = [];
const server = createServer((request: IncomingMessage, response) => {
  readRequestBody(request, limitBytes, request.headers["x-pooled"] ? pool : undefined, (error, body) => {
    seen.push(error ? { error } : { body: Buffer.from(body!), under: body!.buffer });
    if (body) pool.release(body);
    if (error) request.resume();
    response.statusCode = error ? ((error as { statusCode?: number }).statusCode ?? 500) : 200;
    response.end(error ? "" : String(body!.byteLength));
  });
});
let port = 0;

function send(body: Uint8Array, headers: Record<string, string | number>, chunked = false): Promise<number> {
  return new Promise((resolve, reject) => {
    const sent = httpRequest({ host: "127.0.0.1", port, method: "POST", path: "/", headers: chunked ? headers : { ...headers, "content-length": body.byteLength } }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
    });
    sent.on("error", reject);
    if (chunked) {
      sent.write(body.subarray(0, body.byteLength >> 1));
      sent.end(body.subarray(body.byteLength >> 1));
    } else sent.end(body);
  });
}

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("readRequestBody", () => {
  it("reads a body into one pooled buffer that the next request reuses once released", async () => {
    const first = new Uint8Array(200_000).map((_, i) => i % 251);
    expect(await send(first, { "x-pooled": 1 })).toBe(200);
    expect(Buffer.compare(seen.at(-1)!.body!, Buffer.from(first))).toBe(0);
    expect(pool.size).toBe(1);
    const second = new Uint8Array(150_000).fill(7);
    expect(await send(second, { "x-pooled": 1 })).toBe(200);
    expect(Buffer.compare(seen.at(-1)!.body!, Buffer.from(second))).toBe(0);
    expect(seen.at(-1)!.under).toBe(seen.at(-2)!.under);
    expect(pool.size).toBe(1);
  });

  it("gives a request whose buffer is still leased a buffer of its own", () => {
    const a = pool.take(1000);
    const b = pool.take(1000);
    expect(b.buffer).not.toBe(a.buffer);
    expect(pool.size).toBe(0);
    pool.release(a.subarray(0, 10));
    pool.release(b);
    pool.release(b);
    // A body the pool did not lend (a chunked one) is not taken in.
    pool.release(Buffer.alloc(10));
    expect(pool.size).toBe(2);
    expect([a.buffer, b.buffer]).toContain(pool.take(100).buffer);
    // A buffer that moved to another thread (detached) is not pooled again.
    const moved = pool.take(50_000);
    structuredClone(moved.buffer, { transfer: [moved.buffer as ArrayBuffer] });
    const before = pool.size;
    pool.release(moved);
    expect(pool.size).toBe(before);
  });

  it("joins a chunked body, and answers fastify's 413 beyond the limit, declared or streamed", async () => {
    const body = new Uint8Array(90_000).fill(3);
    expect(await send(body, { "x-pooled": 1, "transfer-encoding": "chunked" }, true)).toBe(200);
    expect(seen.at(-1)!.body!.byteLength).toBe(90_000);
    expect(await send(new Uint8Array(limitBytes + 1), {})).toBe(413);
    expect(seen.at(-1)!.error!.code).toBe("FST_ERR_CTP_BODY_TOO_LARGE");
    expect(await send(new Uint8Array(limitBytes + 1), { "transfer-encoding": "chunked" }, true)).toBe(413);
    expect(seen.at(-1)!.error!.code).toBe("FST_ERR_CTP_BODY_TOO_LARGE");
  });
});
