import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgeforgeError } from "./errors.js";
import { callServer } from "./server-client.js";

/** A real loopback HTTP server answering as `edgeforge serve` does, route by route. */
let server: Server;
let url: string;
const seen: { method?: string; path?: string; authorization?: string; body: string }[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      seen.push({ method: request.method, path: request.url, authorization: request.headers.authorization, body });
      const answer = (status: number, text: string): void => {
        response.writeHead(status, { "content-type": "application/json" });
        response.end(text);
      };
      if (request.url === "/base/v2/echo") answer(200, JSON.stringify({ got: body ? JSON.parse(body) : null }));
      else if (request.url === "/metrics") answer(200, "edgeforge_model_ready 1\n");
      else if (request.url === "/v2/models/nope/monitoring") answer(404, JSON.stringify({ error: 'no model "nope"', code: "MODEL_NOT_FOUND" }));
      else if (request.url === "/admin") answer(401, JSON.stringify({ error: "missing or invalid bearer token" }));
      else answer(500, "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function failure(call: Promise<unknown>): Promise<EdgeforgeError> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(EdgeforgeError.isInstance(error)).toBe(true);
  return error as EdgeforgeError;
}

describe("callServer", () => {
  it("posts JSON with the bearer token under the server's base path and reads JSON or text back", async () => {
    expect(await callServer(`${url}/base`, "/v2/echo", { method: "POST", body: { a: 1 }, token: "t0ken-t0ken-t0ken" })).toEqual({ got: { a: 1 } });
    expect(seen.at(-1)).toMatchObject({ method: "POST", path: "/base/v2/echo", authorization: "Bearer t0ken-t0ken-t0ken" });
    expect(await callServer(url, "/metrics", { as: "text" })).toBe("edgeforge_model_ready 1\n");
    expect(seen.at(-1)!.authorization).toBeUndefined();
  });

  it("turns a refusal into the server's own error code, else UNAUTHORIZED (401) or SERVER_UNREACHABLE", async () => {
    const missing = await failure(callServer(url, "/v2/models/nope/monitoring"));
    expect(missing.code).toBe("MODEL_NOT_FOUND");
    expect(missing.message).toContain('no model "nope"');
    const unauthorized = await failure(callServer(url, "/admin", { unauthorizedHint: "pass --token-file" }));
    expect(unauthorized.code).toBe("UNAUTHORIZED");
    expect(unauthorized.hint).toBe("pass --token-file");
    const broken = await failure(callServer(url, "/broken"));
    expect(broken.code).toBe("SERVER_UNREACHABLE");
    expect(broken.details).toEqual({ status: 500 });
  });

  it("says when nothing answers, and refuses a value that is not a URL", async () => {
    const down = await failure(callServer("http://127.0.0.1:9", "/metrics", { timeoutMs: 5000 }));
    expect(down.code).toBe("SERVER_UNREACHABLE");
    expect(down.message).toMatch(/^http:\/\/127\.0\.0\.1:9 did not answer/);
    expect((await failure(callServer("not a url", "/metrics"))).code).toBe("INVALID_OPTION");
  });
});
