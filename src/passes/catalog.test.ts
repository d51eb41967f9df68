import { describe, expect, it } from "vitest";
import { getPass, passCatalog, passIds } from "./catalog.js";

describe("pass catalog", () => {
  it("keys each pass by its own id; ONNX passes have a default for every searched option", () => {
    for (const id of passIds) expect(getPass(id).id).toBe(id);
    for (const id of passIds.filter((p) => p.startsWith("onnx."))) {
      const pass = getPass(id);
      expect(pass.inputFormat).toBe("onnx");
      const defaults = pass.optionsSchema.parse({});
      for (const key of Object.keys(pass.searchSpace)) expect(key in (defaults as object) || key === "threads").toBe(true);
    }
    expect(Object.isFrozen(passCatalog)).toBe(true);
  });

  it("names outputs with the suffixes users know", () => {
    expect(getPass("onnx.convert.fp16").defaultOutputName("/m/model.onnx", {})).toBe("model_fp16.onnx");
    expect(getPass("onnx.quantize.int8-dynamic").defaultOutputName("model.onnx", {})).toBe("model_int8.onnx");
    expect(getPass("onnx.quantize.int8-static").defaultOutputName("model.onnx", {})).toBe("model_int8.onnx");
    expect(getPass("onnx.quantize.auto").defaultOutputName("model.onnx", {})).toBe("model_int8.onnx");
    expect(getPass("onnx.quantize.int4").defaultOutputName("dir/model.onnx", {})).toBe("model_q4.onnx");
  });
});
