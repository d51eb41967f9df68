import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { isSharedBody, leaseSharedBody, SharedResponseSlot, sharedBodyMaxBytes, sharedBodyMinBytes, type SharedBody } from "./shared-response.js";

/** Post through a real MessagePort, as between the worker thread and the server thread. */
function acrossThreads(body: SharedBody): SharedBody {
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(body);
  const received = receiveMessageOnPort(port2)!.message as SharedBody;
  port1.close();
  return received;
}

describe("the shared response slot (thread isolation)", () => {
  it("carries the pieces whole, is leased until released, and is reused afterwards", () => {
    const slot = new SharedResponseSlot();
    const json = new TextEncoder().encode('{"outputs":[]}');
    const tensor = new Float32Array(70_000).map((_, i) => i * 0.5);
    const bytes = new Uint8Array(tensor.buffer, 4, tensor.byteLength - 4);
    const first = slot.tryFill([json, bytes])!;
    expect(isSharedBody(first)).toBe(true);
    const received = acrossThreads(first);
    const lease = leaseSharedBody(received);
    expect(lease.pieces.map((piece) => piece.byteLength)).toEqual([json.byteLength, bytes.byteLength]);
    expect(received.byteLength).toBe(json.byteLength + bytes.byteLength);
    expect(Buffer.from(lease.pieces[0]!).toString()).toBe('{"outputs":[]}');
    expect(Buffer.compare(Buffer.from(lease.pieces[1]!), Buffer.from(bytes))).toBe(0);
    // Each piece sits at its source's alignment mod 8 (so V8 copies it word by word), after the one before.
    expect(lease.pieces[1]!.byteOffset % 8).toBe(bytes.byteOffset % 8);
    expect(lease.pieces[1]!.byteOffset).toBeGreaterThanOrEqual(json.byteLength);
    // Still being written out: the next result must not overwrite it.
    expect(slot.tryFill([bytes])).toBeUndefined();
    lease.release();
    lease.release();
    const second = slot.tryFill([bytes])!;
    expect(second.buffer).toBe(first.buffer);
    expect(Buffer.compare(Buffer.from(Buffer.concat(leaseSharedBody(second).pieces)), Buffer.from(bytes))).toBe(0);
  });

  it("leaves small and huge bodies to go as they are, and grows for a larger one", () => {
    const slot = new SharedResponseSlot();
    expect(slot.tryFill([new Uint8Array(sharedBodyMinBytes - 1)])).toBeUndefined();
    expect(slot.tryFill([new Uint8Array(sharedBodyMaxBytes), new Uint8Array(1)])).toBeUndefined();
    const small = slot.tryFill([new Uint8Array(sharedBodyMinBytes)])!;
    leaseSharedBody(small).release();
    const large = slot.tryFill([new Uint8Array(sharedBodyMinBytes * 3).fill(9)])!;
    expect(large.byteLength).toBe(sharedBodyMinBytes * 3);
    expect(leaseSharedBody(large).pieces[0]!.every((b) => b === 9)).toBe(true);
    expect(isSharedBody({ inFileBytes: 3 })).toBe(false);
  });
});
