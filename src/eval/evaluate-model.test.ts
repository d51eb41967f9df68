import { describe, expect, it } from "vitest";
import { chooseTask, retentionRatios } from "./evaluate-model.js";

describe("retentionRatios", () => {
  it("divides model by baseline for higher-is-better and baseline by model for lower-is-better", () => {
    const ratios = retentionRatios(
      [
        { name: "top1Accuracy", value: 0.8, unit: "ratio", direction: "higher" },
        { name: "perplexity", value: 12, unit: "", direction: "lower" },
        { name: "onlyHere", value: 1, unit: "", direction: "higher" },
      ],
      [
        { name: "top1Accuracy", value: 0.9, unit: "ratio", direction: "higher" },
        { name: "perplexity", value: 10, unit: "", direction: "lower" },
      ],
    );
    expect(ratios.top1Accuracy).toBeCloseTo(0.8 / 0.9, 12);
    expect(ratios.perplexity).toBeCloseTo(10 / 12, 12);
    expect(ratios.onlyHere).toBeUndefined();
  });
});

describe("chooseTask", () => {
  it("picks the task from what was given, and asks when it cannot tell", () => {
    expect(chooseTask({ format: "onnx", labelled: false, evaluatorPath: "e.mjs" })).toBe("custom");
    expect(chooseTask({ format: "gguf", labelled: false })).toBe("llm");
    expect(chooseTask({ format: "onnx", labelled: true, keys: "keys.txt" })).toBe("ctc");
    expect(chooseTask({ format: "onnx", labelled: true, baselinePath: "b.onnx" })).toBe("classification");
    expect(chooseTask({ format: "onnx", labelled: false, baselinePath: "b.onnx" })).toBe("fidelity");
    expect(chooseTask({ format: "onnx", labelled: true, task: "fidelity" })).toBe("fidelity");
    expect(() => chooseTask({ format: "onnx", labelled: false })).toThrow(expect.objectContaining({ code: "INVALID_OPTION" }));
  });
});
