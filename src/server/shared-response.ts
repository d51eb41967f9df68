/**
 * Thread isolation: large results reach the server thread through one reused SharedArrayBuffer. A
 * result transferred as it is arrives in the server thread as a fresh 1 MB block of memory per request
 * (onnxruntime allocates each output anew), and there it cost ~2.5 ms per PP-OCRv4 rec request on the
 * test machine (writing and freeing fresh pages, garbage collection of the external buffers) against
 * ~0.1 ms for copying it into memory that is already mapped. The worker keeps its own output.
 */

/** A result body in the shared slot: its first `byteLength` bytes. `state` is the slot's lease flag. */
export interface SharedBody {
  buffer: SharedArrayBuffer;
  state: SharedArrayBuffer;
  byteLength: number;
}

/** Bodies at least this large go through the slot; smaller ones are cheaper to move as they are. */
export const sharedBodyMinBytes = 64 * 1024;
/** Bodies above this go as they are, so one huge response does not stay resident in the slot. */
export const sharedBodyMaxBytes = 64 * 2 ** 20;

const free = 0;
const leased = 1;

/** The worker's side: one slot, grown to the largest body seen (up to the cap). */
export class SharedResponseSlot {
  private buffer = new SharedArrayBuffer(0);
  private readonly state = new SharedArrayBuffer(4);
  private readonly flag = new Int32Array(this.state);

  /**
   * Copy `pieces` one after another into the slot and lease it to the server; undefined when the body
   * is outside the slot's size range or the server still holds the previous body (a response still
   * being written to a slow client), and the caller sends the pieces as they are.
   */
  tryFill(pieces: readonly Uint8Array[]): SharedBody | undefined {
    let total = 0;
    for (const piece of pieces) total += piece.byteLength;
    if (total < sharedBodyMinBytes || total > sharedBodyMaxBytes) return undefined;
    if (Atomics.compareExchange(this.flag, 0, free, leased) !== free) return undefined;
    if (this.buffer.byteLength < total) this.buffer = new SharedArrayBuffer(total);
    const target = new Uint8Array(this.buffer);
    let at = 0;
    for (const piece of pieces) {
      target.set(piece, at);
      at += piece.byteLength;
    }
    return { buffer: this.buffer, state: this.state, byteLength: total };
  }
}

/** The server's side: the body as bytes, and `release` (once written out) that hands the slot back to the worker. */
export function leaseSharedBody(body: SharedBody): { bytes: Uint8Array; release: () => void } {
  const flag = new Int32Array(body.state);
  let released = false;
  return {
    bytes: new Uint8Array(body.buffer, 0, body.byteLength),
    release: () => {
      if (released) return;
      released = true;
      Atomics.store(flag, 0, free);
    },
  };
}

export function isSharedBody(body: unknown): body is SharedBody {
  return typeof body === "object" && body !== null && (body as SharedBody).buffer instanceof SharedArrayBuffer;
}
