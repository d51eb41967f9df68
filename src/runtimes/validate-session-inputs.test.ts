import { describe, expect, it } from "vitest";
import type { NamedTensors, TensorSpec } from "../core/tensor.js";
import { validateSessionInputs } from "./validate-session-inputs.js";

const specs: TensorSpec[] = [{ name: "x", dtype: "float32", shape: [1, 3, "w"] }];
const ok: NamedTensors = { x: { dtype: "float32", dims: [1, 3, 2], data: new Float32Array(6) } };

function codeOf(inputs: NamedTensors, limits = {}, given: TensorSpec[] = specs): string {
  try {
    validateSessionInputs(inputs, given, limits);
    return "accepted";
  } catch (error) {
    return (error as { code: string }).code;
  }
}

describe("validateSessionInputs", () => {
  it("accepts inputs that match the declared specs", () => {
    expect(codeOf(ok)).toBe("accepted");
  });

  it("refuses each kind of bad input with INVALID_INPUT", () => {
    const bad: NamedTensors[] = [
      { x: { dtype: "float32", dims: [1, 3, 2], data: Float32Array.from([0, 0, Number.NaN, 0, 0, 0]) } },
      { x: { dtype: "float32", dims: [1, 3, 2], data: Float32Array.from([0, Number.NEGATIVE_INFINITY, 0, 0, 0, 0]) } },
      { x: { dtype: "int32", dims: [1, 3, 2], data: new Int32Array(6) } },
      { x: { dtype: "float32", dims: [3, 2], data: new Float32Array(6) } },
      { x: { dtype: "float32", dims: [1, 4, 2], data: new Float32Array(8) } },
      { x: { dtype: "float32", dims: [1, 3, 0], data: new Float32Array(0) } },
      { x: { dtype: "float32", dims: [1, 3, 2 ** 30], data: new Float32Array(1) } },
      { x: { dtype: "float32", dims: [1, 3, 2], data: new Float32Array(5) } },
      {},
      { ...ok, y: ok.x as NamedTensors[string] },
    ];
    for (const inputs of bad) expect(codeOf(inputs)).toBe("INVALID_INPUT");
  });

  it("checks token ids against the vocabulary and the context", () => {
    const tokenSpecs: TensorSpec[] = [{ name: "tokens", dtype: "int32", shape: ["n"] }];
    const tokens = (ids: number[]): NamedTensors => ({ tokens: { dtype: "int32", dims: [ids.length], data: Int32Array.from(ids) } });
    expect(codeOf(tokens([1, 2, 3]), { vocabularySize: 10, maxTokens: 4 }, tokenSpecs)).toBe("accepted");
    expect(codeOf(tokens([1, 10]), { vocabularySize: 10 }, tokenSpecs)).toBe("INVALID_INPUT");
    expect(codeOf(tokens([-1]), { vocabularySize: 10 }, tokenSpecs)).toBe("INVALID_INPUT");
    expect(codeOf(tokens([1, 2, 3, 4, 5]), { vocabularySize: 10, maxTokens: 4 }, tokenSpecs)).toBe("INVALID_INPUT");
  });
});
