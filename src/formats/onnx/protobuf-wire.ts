/** Raised by the header-only protobuf readers when the bytes are not a well-formed message; each reader maps it to its own outcome. */
export class MalformedProtobuf extends Error {}

/** A base-128 varint at `offset` (up to 10 bytes; values past 2^53 lose precision, which no ONNX length reaches). */
export function varintAt(bytes: Uint8Array, offset: number): { value: number; size: number } {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10 && offset + i < bytes.length; i++) {
    const byte = bytes[offset + i]!;
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) return { value, size: i + 1 };
  }
  throw new MalformedProtobuf();
}

/** The varint encoding of a non-negative integer. */
export function varintBytes(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return bytes;
}
