/**
 * Thread isolation: large results reach the server thread through one reused SharedArrayBuffer. A
 * result transferred as it is arrives in the server thread as a fresh 1 MB block of memory per request
 * (onnxruntime allocates each output anew), and there it cost ~2.5 ms per PP-OCRv4 rec request on the
 * test machine (writing and freeing fresh pages, garbage collection of the external buffers) against
 * ~0.1 ms for copying it into memory that is already mapped. The worker keeps its own output.
 *
 * Each piece lands at an offset with the same alignment mod 8 as its source: V8 copies into shared
 * memory word by word only when source and target are equally aligned, and byte by byte otherwise
 * (0.30 ms instead of 0.04–0.07 ms for rec's 1 MB output placed right after its JSON header).
 */

/** A result body in the shared slot: its pieces as `[offset, byteLength]` pairs, in order. `state` is the slot's lease flag. */
export interface SharedBody {
  buffer: SharedArrayBuffer;
  state: SharedArrayBuffer;
  pieces: [number, number][];
  byteLength: number;
}

/** Bodies at least this large go through the slot; smaller ones are cheaper to move as they are. */
export const sharedBodyMinBytes = 64 * 1024;
/** Bodies above this go as they are, so one huge response does not stay resident in the slot. */
export const sharedBodyMaxBytes = 64 * 2 ** 20;

const free = 0;
/** V8's word size for copies into shared memory. */
const wordBytes = 8;
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
    const ranges: [number, number][] = [];
    let end = 0;
    for (const piece of pieces) {
      const offset = end + ((piece.byteOffset - end) & (wordBytes - 1));
      ranges.push([offset, piece.byteLength]);
      end = offset + piece.byteLength;
    }
    if (this.buffer.byteLength < end) this.buffer = new SharedArrayBuffer(end + pieces.length * wordBytes);
    const target = new Uint8Array(this.buffer);
    pieces.forEach((piece, i) => target.set(piece, ranges[i]![0]));
    return { buffer: this.buffer, state: this.state, pieces: ranges, byteLength: total };
  }
}

/** The server's side: the body's pieces, and `release` (once written out) that hands the slot back to the worker. */
export function leaseSharedBody(body: SharedBody): { pieces: Uint8Array[]; release: () => void } {
  const flag = new Int32Array(body.state);
  let released = false;
  return {
    pieces: body.pieces.map(([offset, byteLength]) => new Uint8Array(body.buffer, offset, byteLength)),
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
