import { EdgeforgeError } from "../core/errors.js";
import { elementCount, type NamedTensors, type TensorSpec } from "../core/tensor.js";

export interface InputLimits {
  /** Most elements one input may hold (guards memory); default 16 Mi. */
  maxElements?: number;
  /** For token inputs: ids must lie in [0, vocabularySize). */
  vocabularySize?: number;
  /** For token inputs: at most this many tokens. */
  maxTokens?: number;
}

function reject(message: string, hint: string, details: Record<string, unknown>): EdgeforgeError {
  return new EdgeforgeError("INVALID_INPUT", message, { hint, details });
}

/**
 * Check inputs against a session's declared inputs before they reach a native engine: names, dtype,
 * rank, fixed dims, empty or oversized tensors, non-finite floats, token ids outside the vocabulary.
 * Engines accept NaN silently and some abort on absurd sizes; a clear error here keeps the
 * session usable and tells the caller what was wrong.
 */
export function validateSessionInputs(inputs: NamedTensors, specs: readonly TensorSpec[], limits: InputLimits = {}): void {
  const maxElements = limits.maxElements ?? 16 * 1024 * 1024;
  for (const name of Object.keys(inputs)) {
    if (!specs.some((spec) => spec.name === name)) throw reject(`unknown input "${name}"`, `the model's inputs are ${specs.map((s) => s.name).join(", ")}`, { input: name });
  }
  for (const spec of specs) {
    const tensor = inputs[spec.name];
    if (!tensor) throw reject(`input "${spec.name}" is missing`, `pass every input: ${specs.map((s) => s.name).join(", ")}`, { input: spec.name });
    if (tensor.dtype !== spec.dtype) throw reject(`input "${spec.name}" is ${tensor.dtype}, the model expects ${spec.dtype}`, "convert the input to the declared element type", { input: spec.name, dtype: tensor.dtype, expected: spec.dtype });
    if (tensor.dims.length !== spec.shape.length) {
      throw reject(`input "${spec.name}" has rank ${tensor.dims.length} [${tensor.dims.join(", ")}], the model expects rank ${spec.shape.length} [${spec.shape.join(", ")}]`, "reshape the input", { input: spec.name, dims: tensor.dims, shape: spec.shape });
    }
    tensor.dims.forEach((dim, axis) => {
      const declared = spec.shape[axis];
      if (!Number.isInteger(dim) || dim <= 0) throw reject(`input "${spec.name}" is empty or malformed (dim ${axis} = ${dim})`, "every dimension must be a positive integer", { input: spec.name, dims: tensor.dims });
      if (typeof declared === "number" && declared > 0 && declared !== dim) {
        throw reject(`input "${spec.name}" has ${dim} at axis ${axis}, the model fixes it to ${declared}`, "resize the input to the model's fixed dimensions", { input: spec.name, dims: tensor.dims, shape: spec.shape });
      }
    });
    const count = elementCount(tensor.dims);
    if (count > maxElements) throw reject(`input "${spec.name}" holds ${count} elements, above the limit of ${maxElements}`, "split the request or raise the limit", { input: spec.name, elements: count, maxElements });
    if (tensor.data.length !== count) throw reject(`input "${spec.name}" has ${tensor.data.length} values for dims [${tensor.dims.join(", ")}] (${count})`, "the data length must match the dims", { input: spec.name });
    if (tensor.data instanceof Float32Array || tensor.data instanceof Float64Array) {
      const bad = tensor.data.findIndex((value) => !Number.isFinite(value));
      if (bad >= 0) throw reject(`input "${spec.name}" holds a non-finite value (${tensor.data[bad]}) at element ${bad}`, "replace NaN and Infinity before inference", { input: spec.name, index: bad });
    }
    if (limits.vocabularySize !== undefined && (tensor.dtype === "int32" || tensor.dtype === "int64")) {
      for (let i = 0; i < tensor.data.length; i++) {
        const id = Number(tensor.data[i]);
        if (id < 0 || id >= limits.vocabularySize) throw reject(`input "${spec.name}" holds token id ${id}, outside the vocabulary [0, ${limits.vocabularySize})`, "tokenize with the model's own tokenizer", { input: spec.name, index: i, id });
      }
      if (limits.maxTokens !== undefined && count > limits.maxTokens) throw reject(`input "${spec.name}" holds ${count} tokens, above the context of ${limits.maxTokens}`, "shorten the prompt", { input: spec.name, tokens: count });
    }
  }
}
