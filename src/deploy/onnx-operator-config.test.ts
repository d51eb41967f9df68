import { describe, expect, it } from "vitest";
import type { OnnxInspection } from "../formats/onnx/inspect-onnx.js";
import { onnxQuantizationOf } from "./onnx-operator-config.js";

const inspection = (ops: string[]) => ({ ops: ops.map((op) => ({ op, count: 1 })), byDtype: [{ dtype: "float32" }] }) as unknown as OnnxInspection;

describe("onnxQuantizationOf", () => {
  it("reads int8 from the quantized kernels, including onnxruntime's DynamicQuantizeLSTM (an int8-dynamic Silero VAD has no other)", () => {
    expect(onnxQuantizationOf(inspection(["If", "com.microsoft.DynamicQuantizeLSTM", "Conv"]))).toBe("int8");
    expect(onnxQuantizationOf(inspection(["QLinearConv", "com.microsoft.QLinearAdd"]))).toBe("int8");
    expect(onnxQuantizationOf(inspection(["com.microsoft.MatMulNBits", "MatMul"]))).toBe("int4");
    expect(onnxQuantizationOf(inspection(["Conv", "LSTM"]))).toBe("float32");
  });
});
