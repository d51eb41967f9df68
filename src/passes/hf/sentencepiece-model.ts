import { EdgeforgeError } from "../../core/errors.js";

/**
 * The parts of SentencePiece's ModelProto (sentencepiece_model.proto) a GGUF vocabulary needs:
 * pieces (field 1: piece=1 string, score=2 float, type=3 enum), trainer_spec (field 2:
 * model_type=3, vocab_size=4, byte_fallback=35, unk_id=40, bos_id=41, eos_id=42, pad_id=43) and
 * normalizer_spec (field 3: name=1, add_dummy_prefix=3, remove_extra_whitespaces=4,
 * escape_whitespaces=5). Piece types use the same numbers as GGUF token types.
 */
export const pieceTypes = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

export interface SentencePieceModel {
  pieces: string[];
  scores: Float32Array;
  types: Int32Array;
  /** 1 unigram, 2 BPE, 3 word, 4 char. */
  modelType: number;
  byteFallback: boolean;
  unkId: number;
  bosId: number;
  eosId: number;
  /** −1 when the model has no padding piece. */
  padId: number;
  normalizerName: string;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
}

class ProtoReader {
  offset = 0;
  constructor(private readonly bytes: Uint8Array, private readonly where: string) {}

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.offset >= this.bytes.length) throw this.corrupt("ends inside a varint");
      const byte = this.bytes[this.offset++] as number;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw this.corrupt("has a varint longer than 10 bytes");
    }
  }

  /** A varint read as a signed 64-bit value (int32 fields store −1 as ten bytes). */
  signedVarint(): number {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.offset >= this.bytes.length) throw this.corrupt("ends inside a varint");
      const byte = this.bytes[this.offset++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return Number(BigInt.asIntN(64, result));
      shift += 7n;
      if (shift > 63n) throw this.corrupt("has a varint longer than 10 bytes");
    }
  }

  slice(length: number): Uint8Array {
    if (this.offset + length > this.bytes.length) throw this.corrupt("has a field running past its end");
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  float32(): number {
    const bytes = this.slice(4);
    return new DataView(bytes.buffer, bytes.byteOffset, 4).getFloat32(0, true);
  }

  /** Skip a field of the given wire type. */
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.slice(8);
    else if (wireType === 2) this.slice(this.varint());
    else if (wireType === 5) this.slice(4);
    else throw this.corrupt(`uses protobuf wire type ${wireType}`);
  }

  corrupt(what: string): EdgeforgeError {
    return new EdgeforgeError("CORRUPT_MODEL", `${this.where} is not a SentencePiece model: it ${what}`, {
      hint: "tokenizer.model must be a SentencePiece ModelProto (as shipped with llama/mistral checkpoints)",
      details: { path: this.where, offset: this.offset },
    });
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Decode a tokenizer.model file's bytes. */
export function decodeSentencePieceModel(bytes: Uint8Array, where: string): SentencePieceModel {
  const reader = new ProtoReader(bytes, where);
  const pieces: string[] = [];
  const scores: number[] = [];
  const types: number[] = [];
  const model: Omit<SentencePieceModel, "pieces" | "scores" | "types"> = {
    modelType: 1,
    byteFallback: false,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    padId: -1,
    normalizerName: "",
    addDummyPrefix: true,
    removeExtraWhitespaces: true,
    escapeWhitespaces: true,
  };
  while (!reader.done) {
    const key = reader.varint();
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (wireType !== 2) {
      reader.skip(wireType);
      continue;
    }
    const body = new ProtoReader(reader.slice(reader.varint()), where);
    if (field === 1) {
      let piece = "";
      let score = 0;
      let type: number = pieceTypes.normal;
      while (!body.done) {
        const k = body.varint();
        if (k === 0x0a) piece = utf8.decode(body.slice(body.varint()));
        else if (k === 0x15) score = body.float32();
        else if (k === 0x18) type = body.varint();
        else body.skip(k & 7);
      }
      pieces.push(piece);
      scores.push(score);
      types.push(type);
    } else if (field === 2) {
      while (!body.done) {
        const k = body.varint();
        const f = Math.floor(k / 8);
        if ((k & 7) !== 0) {
          body.skip(k & 7);
          continue;
        }
        const value = body.signedVarint();
        if (f === 3) model.modelType = value;
        else if (f === 35) model.byteFallback = value !== 0;
        else if (f === 40) model.unkId = value;
        else if (f === 41) model.bosId = value;
        else if (f === 42) model.eosId = value;
        else if (f === 43) model.padId = value;
      }
    } else if (field === 3) {
      while (!body.done) {
        const k = body.varint();
        const f = Math.floor(k / 8);
        if (f === 1 && (k & 7) === 2) model.normalizerName = utf8.decode(body.slice(body.varint()));
        else if ((k & 7) === 0 && f >= 3 && f <= 5) {
          const value = body.varint() !== 0;
          if (f === 3) model.addDummyPrefix = value;
          else if (f === 4) model.removeExtraWhitespaces = value;
          else model.escapeWhitespaces = value;
        } else body.skip(k & 7);
      }
    }
  }
  if (pieces.length === 0) throw reader.corrupt("holds no pieces");
  return { pieces, scores: Float32Array.from(scores), types: Int32Array.from(types), ...model };
}

class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];

  varint(value: number): this {
    const bytes: number[] = [];
    let rest = value < 0 ? BigInt.asUintN(64, BigInt(value)) : BigInt(value);
    do {
      let byte = Number(rest & 0x7fn);
      rest >>= 7n;
      if (rest > 0n) byte |= 0x80;
      bytes.push(byte);
    } while (rest > 0n);
    this.chunks.push(Uint8Array.from(bytes));
    return this;
  }

  key(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, 2).varint(value.length);
    this.chunks.push(value);
    return this;
  }

  float32(field: number, value: number): this {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.key(field, 5);
    this.chunks.push(bytes);
    return this;
  }

  finish(): Uint8Array {
    return Buffer.concat(this.chunks);
  }
}

/** Encode a model as tokenizer.model bytes (the fields above; others take SentencePiece's defaults). */
export function encodeSentencePieceModel(model: SentencePieceModel): Uint8Array {
  const text = new TextEncoder();
  const out = new ProtoWriter();
  model.pieces.forEach((piece, index) => {
    const entry = new ProtoWriter().bytes(1, text.encode(piece)).float32(2, model.scores[index] ?? 0);
    const type = model.types[index] ?? pieceTypes.normal;
    if (type !== pieceTypes.normal) entry.key(3, 0).varint(type);
    out.bytes(1, entry.finish());
  });
  const trainer = new ProtoWriter()
    .key(3, 0)
    .varint(model.modelType)
    .key(4, 0)
    .varint(model.pieces.length)
    .key(35, 0)
    .varint(model.byteFallback ? 1 : 0)
    .key(40, 0)
    .varint(model.unkId)
    .key(41, 0)
    .varint(model.bosId)
    .key(42, 0)
    .varint(model.eosId)
    .key(43, 0)
    .varint(model.padId);
  out.bytes(2, trainer.finish());
  const normalizer = new ProtoWriter()
    .bytes(1, text.encode(model.normalizerName))
    .key(3, 0)
    .varint(model.addDummyPrefix ? 1 : 0)
    .key(4, 0)
    .varint(model.removeExtraWhitespaces ? 1 : 0)
    .key(5, 0)
    .varint(model.escapeWhitespaces ? 1 : 0);
  out.bytes(3, normalizer.finish());
  return out.finish();
}
