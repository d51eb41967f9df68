import { describe, expect, it, vi } from "vitest";
import { PendingRecords } from "./pending-records.js";

function deferred(): { promise: Promise<void>; resolve(): void; reject(error: Error): void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("PendingRecords", () => {
  it("settles only after every record tracked so far, and forgets finished ones", async () => {
    const records = new PendingRecords();
    const first = deferred();
    const second = deferred();
    records.track(first.promise);
    records.track(second.promise);
    let settled = false;
    const waiting = records.settled().then(() => (settled = true));
    first.resolve();
    await first.promise;
    await Promise.resolve();
    expect(settled).toBe(false);
    second.reject(new Error("worker gone"));
    await waiting;
    expect(settled).toBe(true);
    expect(records.size).toBe(0);
  });

  it("stops waiting for a record that never finishes after a bounded time", async () => {
    vi.useFakeTimers();
    try {
      const records = new PendingRecords();
      records.track(new Promise<void>(() => {}));
      let settled = false;
      const waiting = records.settled().then(() => (settled = true));
      await vi.advanceTimersByTimeAsync(999);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await waiting;
      expect(settled).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
