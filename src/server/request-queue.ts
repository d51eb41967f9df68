import { EdgeforgeError } from "../core/errors.js";

/**
 * A bounded FIFO in front of one worker: `concurrency` requests run, `maxQueued` wait, and the
 * rest are refused at once (429) so memory and latency stay bounded under overload.
 */
export class RequestQueue {
  private running = 0;
  private readonly waiting: { grant: () => void; reject: (error: Error) => void }[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly maxQueued: number,
    private readonly onChange: (depth: number, running: number) => void = () => {},
  ) {}

  get depth(): number {
    return this.waiting.length;
  }

  get inFlight(): number {
    return this.running;
  }

  /** Wait for a slot; the returned function releases it. Rejects with SERVER_BUSY when full, or with the signal's reason when it aborts first. */
  async acquire(signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted();
    if (this.running < this.concurrency && this.waiting.length === 0) return this.grantSlot();
    if (this.waiting.length >= this.maxQueued) {
      throw new EdgeforgeError("SERVER_BUSY", `the queue is full (${this.maxQueued} waiting)`, { hint: "retry after the Retry-After delay, or run more replicas", details: { queueDepth: this.maxQueued } });
    }
    return new Promise<() => void>((resolve, reject) => {
      const entry = {
        grant: () => {
          signal.removeEventListener("abort", onAbort);
          resolve(this.grantSlot());
        },
        reject,
      };
      const onAbort = (): void => {
        const index = this.waiting.indexOf(entry);
        if (index >= 0) this.waiting.splice(index, 1);
        this.onChange(this.waiting.length, this.running);
        reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(entry);
      this.onChange(this.waiting.length, this.running);
    });
  }

  /** Refuse everything still waiting (shutdown, unload). */
  rejectWaiting(error: Error): void {
    for (const entry of this.waiting.splice(0)) entry.reject(error);
    this.onChange(0, this.running);
  }

  private grantSlot(): () => void {
    this.running += 1;
    this.onChange(this.waiting.length, this.running);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running -= 1;
      const next = this.waiting.shift();
      if (next) next.grant();
      else this.onChange(this.waiting.length, this.running);
    };
  }
}
