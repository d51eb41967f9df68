import { EdgeforgeError } from "../core/errors.js";
import type { ShapeOverrides } from "../core/shapes.js";
import type { NamedTensors, TensorSpec } from "../core/tensor.js";
import { generateInputs, type SyntheticInputOptions } from "./synthetic-inputs.js";

/**
 * Match a dataset sample's tensors to a model's inputs: by name; a single tensor whose name the
 * model lacks goes to the first input still without data. Inputs the sample does not provide
 * (e.g. Silero VAD's state and sample rate) are generated when `generate` is given, with symbolic
 * dimensions taken from the tensors the sample did provide.
 */
export function bindInputs(sample: NamedTensors, specs: readonly TensorSpec[], generate?: SyntheticInputOptions): NamedTensors {
  const names = new Set(specs.map((spec) => spec.name));
  const bound: NamedTensors = {};
  const unmatched: string[] = [];
  for (const [name, tensor] of Object.entries(sample)) {
    if (names.has(name)) bound[name] = tensor;
    else unmatched.push(name);
  }
  if (unmatched.length === 1) {
    const target = specs.find((spec) => bound[spec.name] === undefined);
    if (target) bound[target.name] = sample[unmatched[0] as string] as NamedTensors[string];
  } else if (unmatched.length > 1) {
    throw new EdgeforgeError("DATASET_INVALID", `dataset inputs ${unmatched.join(", ")} match no model input`, {
      hint: `the model's inputs are ${[...names].join(", ")}; name the .npy files or JSON keys after them`,
      details: { unmatched, inputs: [...names] },
    });
  }
  const missing = specs.filter((spec) => bound[spec.name] === undefined);
  if (missing.length === 0) return bound;
  if (!generate) {
    throw new EdgeforgeError("DATASET_INVALID", `the dataset provides no value for input "${missing[0]?.name}"`, {
      hint: "add it to every sample",
      details: { missing: missing.map((spec) => spec.name) },
    });
  }
  const symbols: ShapeOverrides = {};
  for (const spec of specs) {
    const tensor = bound[spec.name];
    if (!tensor) continue;
    spec.shape.forEach((dim, axis) => {
      if (typeof dim === "string" && tensor.dims[axis] !== undefined) symbols[dim] = [tensor.dims[axis] as number];
    });
  }
  const missingSymbols = new Set(missing.flatMap((spec) => spec.shape.filter((d): d is string => typeof d === "string")));
  const relevant: ShapeOverrides = Object.fromEntries(Object.entries(symbols).filter(([symbol]) => missingSymbols.has(symbol)));
  const userShapes = Object.fromEntries(Object.entries(generate.shapes ?? {}).filter(([key]) => missing.some((s) => s.name === key) || missingSymbols.has(key)));
  return { ...bound, ...generateInputs(missing, { ...generate, shapes: { ...relevant, ...userShapes }, unknownShapes: "ignore" }) };
}
