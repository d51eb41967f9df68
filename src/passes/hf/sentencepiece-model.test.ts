import { describe, expect, it } from "vitest";
import { decodeSentencePieceModel, encodeSentencePieceModel, pieceTypes, type SentencePieceModel } from "./sentencepiece-model.js";

describe("SentencePiece ModelProto codec", () => {
  const model: SentencePieceModel = {
    pieces: ["<unk>", "<s>", "</s>", "<0x0A>", "▁the", "é", "▁日本"],
    scores: Float32Array.from([0, 0, 0, 0, -1.5, -2.25, -3]),
    types: Int32Array.from([pieceTypes.unknown, pieceTypes.control, pieceTypes.control, pieceTypes.byte, pieceTypes.normal, pieceTypes.normal, pieceTypes.userDefined]),
    modelType: 2,
    byteFallback: true,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    padId: -1,
    normalizerName: "identity",
    addDummyPrefix: true,
    removeExtraWhitespaces: false,
    escapeWhitespaces: true,
  };

  it("round-trips pieces, scores, types, ids (including pad −1) and normalizer flags", () => {
    const decoded = decodeSentencePieceModel(encodeSentencePieceModel(model), "test.model");
    expect(decoded).toEqual(model);
  });

  it("reports a file that is not a ModelProto", () => {
    expect(() => decodeSentencePieceModel(Uint8Array.from([0x0a, 0x7f, 0x01]), "bad.model")).toThrow(/not a SentencePiece model/);
    expect(() => decodeSentencePieceModel(new Uint8Array(0), "empty.model")).toThrow(/holds no pieces/);
  });
});
