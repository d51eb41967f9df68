import type { ByteSource } from "../../core/byte-source.js";
import { EdgeforgeError } from "../../core/errors.js";

const chunkBytes = 1 << 20;
const utf8 = new TextDecoder("utf-8");

/** TextDecoder costs a native call per string; most vocabulary pieces are short ASCII. */
function decodeShort(buffer: Uint8Array, at: number, length: number): string {
  if (length > 32) return utf8.decode(buffer.subarray(at, at + length));
  let text = "";
  for (let index = at; index < at + length; index += 1) {
    const byte = buffer[index] as number;
    if (byte >= 0x80) return utf8.decode(buffer.subarray(at, at + length));
    text += String.fromCharCode(byte);
  }
  return text;
}

/**
 * Sequential little-endian reads over a ByteSource, fetched in 1 MiB chunks so a vocabulary of
 * 150k strings costs a handful of file reads, not one per value. Every length is checked against
 * the bytes left in the file before anything is allocated.
 */
export class ByteCursor {
  private buffer: Uint8Array = new Uint8Array(0);
  private view = new DataView(this.buffer.buffer);
  /** File offset of buffer[0]. */
  private bufferStart = 0;
  private position = 0;

  constructor(
    private readonly source: ByteSource,
    private readonly signal?: AbortSignal,
  ) {}

  /** Current file offset. */
  get offset(): number {
    return this.position;
  }

  get remainingBytes(): number {
    return this.source.sizeBytes - this.position;
  }

  private async ensure(length: number): Promise<number> {
    const end = this.position + length;
    if (end > this.source.sizeBytes) {
      throw new EdgeforgeError("TRUNCATED_FILE", `${this.source.path}: needs ${length} bytes at offset ${this.position} but the file has ${this.source.sizeBytes}`, {
        hint: "the file is truncated; download or export it again",
        details: { path: this.source.path, offset: this.position, length, sizeBytes: this.source.sizeBytes },
      });
    }
    if (this.position < this.bufferStart || end > this.bufferStart + this.buffer.length) {
      this.signal?.throwIfAborted();
      const readLength = Math.min(Math.max(length, chunkBytes), this.source.sizeBytes - this.position);
      this.buffer = await this.source.read(this.position, readLength);
      this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
      this.bufferStart = this.position;
    }
    const at = this.position - this.bufferStart;
    this.position = end;
    return at;
  }

  // Each getter awaits before touching `this.view`: a refill replaces the view.
  async u8(): Promise<number> {
    const at = await this.ensure(1);
    return this.view.getUint8(at);
  }
  async i8(): Promise<number> {
    const at = await this.ensure(1);
    return this.view.getInt8(at);
  }
  async u16(): Promise<number> {
    const at = await this.ensure(2);
    return this.view.getUint16(at, true);
  }
  async i16(): Promise<number> {
    const at = await this.ensure(2);
    return this.view.getInt16(at, true);
  }
  async u32(): Promise<number> {
    const at = await this.ensure(4);
    return this.view.getUint32(at, true);
  }
  async i32(): Promise<number> {
    const at = await this.ensure(4);
    return this.view.getInt32(at, true);
  }
  async f32(): Promise<number> {
    const at = await this.ensure(4);
    return this.view.getFloat32(at, true);
  }
  async f64(): Promise<number> {
    const at = await this.ensure(8);
    return this.view.getFloat64(at, true);
  }
  async u64(): Promise<bigint> {
    const at = await this.ensure(8);
    return this.view.getBigUint64(at, true);
  }
  async i64(): Promise<bigint> {
    const at = await this.ensure(8);
    return this.view.getBigInt64(at, true);
  }

  /** `length` raw bytes as a copy (the chunk buffer is replaced on the next refill). */
  async bytes(length: number): Promise<Uint8Array> {
    const at = await this.ensure(length);
    return this.buffer.slice(at, at + length);
  }

  /** Decode `length` bytes of UTF-8 without copying them first. */
  async utf8(length: number): Promise<string> {
    const at = await this.ensure(length);
    return utf8.decode(this.buffer.subarray(at, at + length));
  }

  /**
   * `count` length-prefixed UTF-8 strings. The loop stays synchronous while the chunk holds the
   * next string (an await per value would cost more than the decoding); `checkLength` bounds
   * each declared length before it is used.
   */
  async strings(count: number, checkLength: (declared: bigint) => number): Promise<string[]> {
    const items = new Array<string>(count);
    for (let index = 0; index < count; index += 1) {
      let at = this.take(8);
      let length: number;
      if (at >= 0 && this.view.getUint32(at + 4, true) === 0 && this.view.getUint32(at, true) <= this.remainingBytes) {
        length = this.view.getUint32(at, true);
      } else {
        length = checkLength(at >= 0 ? this.view.getBigUint64(at, true) : await this.u64());
      }
      at = this.take(length);
      items[index] = at >= 0 ? decodeShort(this.buffer, at, length) : await this.utf8(length);
    }
    return items;
  }

  /** Offset in the chunk of the next `length` bytes when they are buffered (and advance), else -1. */
  private take(length: number): number {
    const at = this.position - this.bufferStart;
    if (at < 0 || at + length > this.buffer.length) return -1;
    this.position += length;
    return at;
  }

  /**
   * Fill `count` fixed-size elements via `decode(view, byteOffset)`, refilling the chunk as needed,
   * so big numeric arrays are decoded straight from the chunk without per-element reads.
   */
  async forEach(count: number, elementBytes: number, decode: (view: DataView, byteOffset: number, index: number) => void): Promise<void> {
    let index = 0;
    while (index < count) {
      const inChunk = this.bufferStart + this.buffer.length - this.position;
      const available = this.position >= this.bufferStart ? Math.floor(inChunk / elementBytes) : 0;
      const batch = Math.min(count - index, Math.max(available, 1), Math.floor(chunkBytes / elementBytes));
      const at = await this.ensure(batch * elementBytes);
      for (let k = 0; k < batch; k += 1) decode(this.view, at + k * elementBytes, index + k);
      index += batch;
    }
  }
}
