import { z } from "zod";
import { EdgeforgeError } from "../core/errors.js";
import type { ShapeOverrides } from "../core/shapes.js";
import { elementCount, type NamedTensors, type Tensor, type TensorData, type TensorSpec } from "../core/tensor.js";
import { createRandom, type Random } from "../stats/random.js";
import { float32ToFloat16Bits } from "../kernels/float16.js";

/**
 * Per-input value overrides (`--input-values FILE`): a constant, explicit data, or a distribution.
 * e.g. {"sr": 16000, "h": {"fill": 0}, "x": {"uniform": [0, 1]}, "ids": {"data": [1, 2, 3]}}
 */
export const inputValueSchema = z.union([
  z.number(),
  z.object({ fill: z.number() }).strict(),
  z.object({ data: z.array(z.number()).min(1) }).strict(),
  z.object({ uniform: z.tuple([z.number(), z.number()]) }).strict(),
  z.object({ normal: z.tuple([z.number(), z.number().nonnegative()]) }).strict(),
  z.object({ integers: z.tuple([z.number().int(), z.number().int()]) }).strict(),
]);
export const inputValuesSchema = z.record(z.string(), inputValueSchema);
export type InputValue = z.infer<typeof inputValueSchema>;
export type InputValues = z.infer<typeof inputValuesSchema>;

export interface SyntheticInputOptions {
  seed: number;
  /** Input shapes by input name (`x=1x3x48x320`) or symbolic dimension name (`batch=4`). */
  shapes?: ShapeOverrides;
  values?: InputValues;
  /** Upper bound (exclusive) for generated token ids; default 1000. */
  vocabularySize?: number;
  /** Overrides naming nothing in this model: an error (default), or ignored when one flag set serves several models. */
  unknownShapes?: "error" | "ignore";
}

/** Names that conventionally hold recurrent state (LSTM h/c, GRU hidden, KV caches). */
const statePattern = /^(h|c|h0|c0|hn|cn|state|states|hidden|cell)$|state|hidden|past|cache/i;

/**
 * Fix every dimension: an input-name override wins, then a symbolic-dimension override or a
 * symbol bound by an earlier input, then 1 for a leading or batch-named dimension. Anything else
 * cannot be guessed and is reported with a --shape hint.
 */
export function resolveInputShapes(specs: readonly TensorSpec[], shapes: ShapeOverrides = {}, unknownShapes: "error" | "ignore" = "error"): Record<string, number[]> {
  const inputNames = new Set(specs.map((spec) => spec.name));
  const symbolNames = new Set(specs.flatMap((spec) => spec.shape.filter((dim): dim is string => typeof dim === "string")));
  for (const key of Object.keys(shapes)) {
    if (!inputNames.has(key) && !symbolNames.has(key) && unknownShapes === "error") {
      throw new EdgeforgeError("INVALID_SHAPE", `--shape names "${key}", which is neither an input nor a dimension of this model`, {
        hint: `inputs: ${[...inputNames].join(", ")}${symbolNames.size > 0 ? `; dimensions: ${[...symbolNames].join(", ")}` : ""}`,
        details: { name: key },
      });
    }
  }
  const bound = new Map<string, number>();
  for (const [key, dims] of Object.entries(shapes)) {
    if (!inputNames.has(key) && dims.length === 1) bound.set(key, dims[0] as number);
  }
  // Input overrides bind their symbols first, so `x=4x3x48x320` also fixes "batch" elsewhere.
  for (const spec of specs) {
    const override = shapes[spec.name];
    if (!override) continue;
    checkOverrideFits(spec, override);
    spec.shape.forEach((dim, axis) => {
      if (typeof dim === "string" && !bound.has(dim)) bound.set(dim, override[axis] as number);
    });
  }
  const resolved: Record<string, number[]> = {};
  for (const spec of specs) {
    const override = shapes[spec.name];
    if (override) {
      resolved[spec.name] = [...override];
      continue;
    }
    resolved[spec.name] = spec.shape.map((dim, axis) => {
      if (typeof dim === "number" && dim >= 0) return dim;
      if (typeof dim === "string" && bound.has(dim)) return bound.get(dim) as number;
      if (axis === 0 || (typeof dim === "string" && /batch|^n$/i.test(dim))) {
        if (typeof dim === "string") bound.set(dim, 1);
        return 1;
      }
      // A leading or batch-named dimension is 1 as measured; D marks the sizes only the user knows.
      const example = spec.shape.map((d, i) => (typeof d === "number" ? d : i === 0 || (typeof d === "string" && /batch|^n$/i.test(d)) ? 1 : "D")).join("x");
      throw new EdgeforgeError("INVALID_SHAPE", `input "${spec.name}" has a dynamic dimension ${dim === null ? "(unnamed)" : `"${dim}"`} at axis ${axis}`, {
        hint: `fix it with --shape ${spec.name}=${example}${typeof dim === "string" ? ` or --shape ${dim}=N` : ""}`,
        details: { input: spec.name, axis, dimension: dim },
      });
    });
  }
  return resolved;
}

function checkOverrideFits(spec: TensorSpec, override: readonly number[]): void {
  const declared = spec.shape;
  const fits = declared.length === override.length && declared.every((dim, axis) => typeof dim !== "number" || dim < 0 || dim === override[axis]);
  if (!fits) {
    const shown = declared.map((dim) => (dim === null ? "?" : String(dim))).join("x") || "scalar";
    throw new EdgeforgeError("INVALID_SHAPE", `shape ${override.join("x")} does not fit input "${spec.name}" [${shown}]`, {
      hint: `keep the rank (${declared.length}) and the fixed dimensions; only symbolic ones may change`,
      details: { input: spec.name, declared, override },
    });
  }
}

type Filler = (random: Random, index: number) => number;

/** A realistic default distribution for an input, by dtype, name and rank. */
function defaultFiller(spec: TensorSpec, rank: number, vocabularySize: number): Filler {
  const name = spec.name;
  if (spec.dtype === "bool") return (r) => r.int(0, 2);
  if (spec.dtype === "uint8") return (r) => r.int(0, 256);
  if (!isFloat(spec.dtype)) {
    if (/^(sr|sample_?rate|sampling_?rate)$/i.test(name)) return () => 16000;
    if (/mask/i.test(name)) return () => 1;
    if (/token_type|segment/i.test(name)) return () => 0;
    if (/id|token|input/i.test(name)) return (r) => r.int(0, vocabularySize);
    return (r) => r.int(0, 10);
  }
  // Mid-stream recurrent state: small values, like a state after some real input.
  if (statePattern.test(name)) return (r) => r.normal(0, 0.1);
  // Audio: speech-level amplitudes in [-1, 1].
  if (/audio|wav|pcm|speech|waveform|signal/i.test(name) || (rank <= 2 && /^input$/i.test(name))) {
    return (r) => Math.max(-1, Math.min(1, r.normal(0, 0.1)));
  }
  // Images and image-like tensors: pixels in [0, 1).
  if (rank >= 3 || /image|pixel|img/i.test(name)) return (r) => r.next();
  return (r) => r.normal(0, 1);
}

function isFloat(dtype: string): boolean {
  return dtype === "float32" || dtype === "float64" || dtype === "float16" || dtype === "bfloat16";
}

function overrideFiller(value: InputValue, count: number, name: string): Filler {
  if (typeof value === "number") return () => value;
  if ("fill" in value) return () => value.fill;
  if ("uniform" in value) return (r) => value.uniform[0] + r.next() * (value.uniform[1] - value.uniform[0]);
  if ("normal" in value) return (r) => r.normal(value.normal[0], value.normal[1]);
  if ("integers" in value) return (r) => r.int(value.integers[0], value.integers[1]);
  if (value.data.length !== count && value.data.length !== 1) {
    throw new EdgeforgeError("INVALID_SHAPE", `input value override for "${name}" has ${value.data.length} values; the input holds ${count}`, {
      hint: "give exactly one value per element, or fix the shape with --shape",
      details: { input: name },
    });
  }
  return (_r, index) => value.data[value.data.length === 1 ? 0 : index] as number;
}

function makeArray(dtype: TensorSpec["dtype"], count: number, name: string): TensorData {
  switch (dtype) {
    case "float32":
      return new Float32Array(count);
    case "float64":
      return new Float64Array(count);
    case "float16":
      return new Uint16Array(count);
    case "int8":
      return new Int8Array(count);
    case "uint8":
    case "bool":
      return new Uint8Array(count);
    case "int16":
      return new Int16Array(count);
    case "uint16":
      return new Uint16Array(count);
    case "int32":
      return new Int32Array(count);
    case "uint32":
      return new Uint32Array(count);
    case "int64":
      return new BigInt64Array(count);
    case "uint64":
      return new BigUint64Array(count);
    default:
      throw new EdgeforgeError("UNSUPPORTED_FEATURE", `cannot generate ${dtype} values for input "${name}"`, {
        hint: "supply real inputs with --inputs",
        details: { input: name, dtype },
      });
  }
}

/** One set of seeded, realistic inputs for the given specs (see defaultFiller for the rules). */
export function generateInputs(specs: readonly TensorSpec[], options: SyntheticInputOptions): NamedTensors {
  const random = createRandom(options.seed);
  const shapes = resolveInputShapes(specs, options.shapes, options.unknownShapes);
  const vocabularySize = options.vocabularySize ?? 1000;
  const inputs: NamedTensors = {};
  for (const spec of specs) {
    const dims = shapes[spec.name] as number[];
    const count = elementCount(dims);
    const override = options.values?.[spec.name];
    const fill = override === undefined ? defaultFiller(spec, dims.length, vocabularySize) : overrideFiller(override, count, spec.name);
    inputs[spec.name] = fillTensor(spec, dims, count, fill, random);
  }
  return inputs;
}

function fillTensor(spec: TensorSpec, dims: number[], count: number, fill: Filler, random: Random): Tensor {
  const data = makeArray(spec.dtype, count, spec.name);
  const isPosition = /position/i.test(spec.name) && !isFloat(spec.dtype);
  const lastDim = dims[dims.length - 1] ?? 1;
  for (let i = 0; i < count; i += 1) {
    const value = isPosition ? i % lastDim : fill(random, i);
    if (data instanceof BigInt64Array || data instanceof BigUint64Array) data[i] = BigInt(Math.trunc(value));
    else if (spec.dtype === "float16") data[i] = float32ToFloat16Bits(value);
    else data[i] = value;
  }
  return { dtype: spec.dtype, dims, data };
}
