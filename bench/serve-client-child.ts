/**
 * The HTTP client of bench:serve, in a process of its own: a lean process that only sends requests,
 * as a real client is. In the bench's own process every request paid for garbage collections of the
 * in-process session's 1 MB outputs and the JSON arm's bodies (up to 3.5 ms per request).
 * node:http with keep-alive (one connection per server), the response read into a reused buffer
 * (WHATWG fetch's web streams cost ~40–60 ms more per 1 MB response on the loaded machine, measured in
 * earlier runs of this bench).
 * Run with `node --import tsx`; talks over the IPC channel (advanced serialization).
 */
import { Agent, request as httpRequest } from "node:http";

export type ClientMessage =
  | { kind: "define"; name: string; url: string; body: Uint8Array; headers: Record<string, string> }
  | { kind: "run"; name: string; count: number };
export type ClientReply = { kind: "defined" } | { kind: "times"; timesNs: number[]; cpuMs: number } | { kind: "error"; message: string };

interface Defined {
  url: URL;
  body: Buffer;
  headers: Record<string, string | number>;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const defined = new Map<string, Defined>();
let responseScratch = new Uint8Array(0);

function timeRequest(request: Defined): Promise<number> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const sent = httpRequest({ agent, host: request.url.hostname, port: request.url.port, path: request.url.pathname, method: "POST", headers: request.headers }, (response) => {
      const length = Number(response.headers["content-length"] ?? 0);
      if (responseScratch.byteLength < length) responseScratch = new Uint8Array(length);
      let at = 0;
      response.on("data", (chunk: Buffer) => {
        if (at + chunk.byteLength <= responseScratch.byteLength) responseScratch.set(chunk, at);
        at += chunk.byteLength;
      });
      response.on("error", reject);
      response.on("end", () => (response.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - started)) : reject(new Error(`HTTP ${response.statusCode}`))));
    });
    sent.on("error", reject);
    sent.end(request.body);
  });
}

async function handle(message: ClientMessage): Promise<ClientReply> {
  if (message.kind === "define") {
    const body = Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength);
    defined.set(message.name, { url: new URL(message.url), body, headers: { ...message.headers, "content-length": body.byteLength } });
    return { kind: "defined" };
  }
  const request = defined.get(message.name)!;
  const timesNs: number[] = [];
  const before = process.cpuUsage();
  for (let i = 0; i < message.count; i += 1) timesNs.push(await timeRequest(request));
  const cpu = process.cpuUsage(before);
  return { kind: "times", timesNs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

process.on("message", (message: ClientMessage) => {
  handle(message).then(
    (reply) => process.send!(reply),
    (error: unknown) => process.send!({ kind: "error", message: error instanceof Error ? error.message : String(error) } satisfies ClientReply),
  );
});
process.on("disconnect", () => process.exit(0));
