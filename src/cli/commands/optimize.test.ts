import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { parseBudgets, parsePassOptions } from "./optimize.js";

describe("optimize flag parsers", () => {
  it("reads --budget as a candidate count or a time", () => {
    expect(parseBudgets(["12"])).toEqual({ maxCandidates: 12 });
    expect(parseBudgets(["12", "10m"])).toEqual({ maxCandidates: 12, maxTimeSec: 600 });
    expect(parseBudgets(["90s", "1h"])).toEqual({ maxTimeSec: 3600 });
    expect(() => parseBudgets(["soon"])).toThrow(InvalidArgumentError);
    expect(() => parseBudgets(["1.5"])).toThrow(InvalidArgumentError);
  });

  it("reads --pass-option values as JSON when they parse, else as strings", () => {
    expect(parsePassOptions(["onnx.quantize.int4:blockSize=64", "onnx.quantize.int4:method=hqq", "onnx.quantize.int8-dynamic:perChannel=true"])).toEqual({
      "onnx.quantize.int4": { blockSize: 64, method: "hqq" },
      "onnx.quantize.int8-dynamic": { perChannel: true },
    });
    expect(() => parsePassOptions(["blockSize=64"])).toThrow(InvalidArgumentError);
  });
});
