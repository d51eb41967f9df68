import { describe, expect, it } from "vitest";
import { readShapeHints } from "./read-shape-hints.js";

const inputs = [
  { name: "input", dtype: "float32", shape: ["batch", "sequence"] },
  { name: "x", dtype: "float32", shape: ["n", 3, "h", "w"] },
  { name: "sr", dtype: "int64", shape: [] },
];

describe("readShapeHints", () => {
  it("takes sizes the metadata states for a symbolic dimension or a whole input, in --shape's names", () => {
    const hints = readShapeHints({ sequence: "512", x: "[1, 3, 48, 320]", author: "someone" }, inputs);
    expect(hints.shapes).toEqual({ sequence: [512], x: [1, 3, 48, 320] });
    expect(hints.sources).toEqual(['metadata_props "x" = "[1, 3, 48, 320]"', 'metadata_props "sequence" = "512"']);
    expect(readShapeHints({ x: "1x3x48x320" }, inputs).shapes).toEqual({ x: [1, 3, 48, 320] });
  });

  it("ignores values that do not fit the declared input or are not sizes", () => {
    // Wrong rank, a fixed dimension contradicted, a zero, text, a static input.
    expect(readShapeHints({ x: "1x3x48" }, inputs).shapes).toEqual({});
    expect(readShapeHints({ x: "1x4x48x320" }, inputs).shapes).toEqual({});
    expect(readShapeHints({ sequence: "0", h: "tall", sr: "16000" }, inputs).shapes).toEqual({});
    expect(readShapeHints({}, inputs)).toEqual({ shapes: {}, sources: [] });
  });
});
