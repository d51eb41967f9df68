import type { IncomingMessage } from "node:http";
import { errorCodes } from "fastify";

/** Buffers kept for reuse at most (one per request that can be in flight at once, beyond which fresh ones are cheaper than holding memory). */
const maxPooledBuffers = 8;
/** Larger bodies get a buffer of their own, so one huge request does not stay resident. */
const maxPooledBytes = 16 * 2 ** 20;

/**
 * Reused buffers for inference request bodies. Each request allocated its joined body (184 KB for
 * PP-OCRv4 rec) as external memory, and external memory is what starts V8's full collections in the
 * server thread (a 10–20 ms mark-compact every ~50 rec requests). A body is leased until its request
 * has handed it on (written to the payload file, or sent in a message), so a request still queued
 * keeps its own while others come in. A body that fills its buffer moves to a worker thread as it is
 * and is not pooled again: there the pool saves only the joining of the chunks.
 */
export class BodyPool {
  private readonly free: Buffer[] = [];
  private readonly leased = new WeakSet<ArrayBufferLike>();

  /** A buffer of at least `byteLength` bytes, from the pool when one is free; leased until `release`. */
  take(byteLength: number): Buffer {
    if (byteLength > maxPooledBytes) return Buffer.allocUnsafeSlow(byteLength);
    const index = this.free.findIndex((buffer) => buffer.byteLength >= byteLength);
    const buffer = index >= 0 ? this.free.splice(index, 1)[0]! : Buffer.allocUnsafeSlow(byteLength);
    this.leased.add(buffer.buffer);
    return buffer;
  }

  /**
   * Hand back the buffer under `body` (any view of it) once nothing reads it any more; other bodies are
   * left alone, and so is one that moved to a worker thread (detached: no bytes left).
   */
  release(body: Uint8Array): void {
    if (!this.leased.has(body.buffer)) return;
    this.leased.delete(body.buffer);
    if (this.free.length < maxPooledBuffers && body.buffer.byteLength > 0) this.free.push(Buffer.from(body.buffer, 0, body.buffer.byteLength));
  }

  /** Buffers waiting for reuse. */
  get size(): number {
    return this.free.length;
  }
}

/**
 * Read a request body of a declared Content-Length straight into one buffer (leased from `pool` when
 * given: the caller releases it), with fastify's own errors: 413 beyond `limitBytes`, 400 when the
 * bytes sent differ from the length. A body without Content-Length (chunked) is joined from its chunks.
 */
export function readRequestBody(stream: IncomingMessage, limitBytes: number, pool: BodyPool | undefined, done: (error: Error | null, body?: Buffer) => void): void {
  const declared = stream.headers["content-length"] === undefined ? Number.NaN : Number(stream.headers["content-length"]);
  if (declared > limitBytes) {
    done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    return;
  }
  const known = Number.isSafeInteger(declared) && declared >= 0;
  const target = known ? (pool ? pool.take(declared) : Buffer.allocUnsafeSlow(declared)) : undefined;
  const chunks: Buffer[] = [];
  let received = 0;
  const finish = (error: Error | null, body?: Buffer): void => {
    stream.removeListener("data", onData);
    stream.removeListener("end", onEnd);
    stream.removeListener("error", onError);
    if (error && target) pool?.release(target);
    done(error, body);
  };
  const onData = (chunk: Buffer): void => {
    if (received + chunk.byteLength > limitBytes || (target && received + chunk.byteLength > declared)) {
      finish(target && received + chunk.byteLength <= limitBytes ? new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH() : new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      return;
    }
    if (target) chunk.copy(target, received);
    else chunks.push(chunk);
    received += chunk.byteLength;
  };
  const onEnd = (): void => {
    if (target && received !== declared) {
      finish(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
      return;
    }
    finish(null, target ? target.subarray(0, received) : Buffer.concat(chunks, received));
  };
  const onError = (error: Error & { statusCode?: number }): void => {
    if (!(typeof error.statusCode === "number" && error.statusCode >= 400)) error.statusCode = 400;
    finish(error);
  };
  stream.on("data", onData);
  stream.on("end", onEnd);
  stream.on("error", onError);
  stream.resume();
}
