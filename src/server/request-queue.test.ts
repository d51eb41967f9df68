import { describe, expect, it } from "vitest";
import { RequestQueue } from "./request-queue.js";

describe("RequestQueue", () => {
  it("runs one at a time, queues up to its depth in FIFO order, refuses the rest with SERVER_BUSY", async () => {
    const depths: number[] = [];
    const queue = new RequestQueue(1, 2, (depth) => depths.push(depth));
    const signal = new AbortController().signal;
    const releaseFirst = await queue.acquire(signal);
    const order: string[] = [];
    const second = queue.acquire(signal).then((release) => {
      order.push("second");
      return release;
    });
    const third = queue.acquire(signal).then((release) => {
      order.push("third");
      return release;
    });
    await expect(queue.acquire(signal)).rejects.toMatchObject({ code: "SERVER_BUSY" });
    expect(queue.depth).toBe(2);
    releaseFirst();
    const releaseSecond = await second;
    releaseSecond();
    releaseSecond();
    (await third)();
    expect(order).toEqual(["second", "third"]);
    expect(queue.inFlight).toBe(0);
    expect(queue.depth).toBe(0);
    expect(Math.max(...depths)).toBe(2);
  });

  it("drops a waiter whose signal aborts, and rejectWaiting empties the queue", async () => {
    const queue = new RequestQueue(1, 4);
    const release = await queue.acquire(new AbortController().signal);
    const controller = new AbortController();
    const waiting = queue.acquire(controller.signal);
    controller.abort(new Error("deadline"));
    await expect(waiting).rejects.toThrow("deadline");
    expect(queue.depth).toBe(0);
    const other = queue.acquire(new AbortController().signal);
    queue.rejectWaiting(new Error("unloaded"));
    await expect(other).rejects.toThrow("unloaded");
    release();
    expect(queue.inFlight).toBe(0);
  });
});
