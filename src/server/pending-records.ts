/** Longest a reader of the metrics waits for outstanding records (a worker that hangs must not hang /metrics). */
const maxWaitMs = 1000;

/**
 * Records that complete after their response went out: the worker sends a request's confidence and
 * monitored features after its response, so computing them is off the client's path. Readers of the
 * metrics and the monitor wait for the outstanding ones, so a client that has its response sees it
 * counted.
 */
export class PendingRecords {
  private readonly pending = new Set<Promise<void>>();

  /** `record` must not reject (its caller handles its own failure). */
  track(record: Promise<void>): void {
    const tracked: Promise<void> = record.then(
      () => {
        this.pending.delete(tracked);
      },
      () => {
        this.pending.delete(tracked);
      },
    );
    this.pending.add(tracked);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Resolves once every record tracked so far is done (or after a bounded wait). */
  async settled(): Promise<void> {
    if (this.pending.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, maxWaitMs);
    });
    await Promise.race([Promise.all([...this.pending]), bound]);
    clearTimeout(timer);
  }
}
