import { EdgeforgeError } from "../core/errors.js";
import type { Session } from "../core/session.js";
import type { ShapeOverrides } from "../core/shapes.js";
import { elementCount, type NamedTensors, type TensorSpec } from "../core/tensor.js";
import { bindInputs } from "../datasets/bind-inputs.js";
import { openDataset } from "../datasets/open-dataset.js";
import { generateInputs, type SyntheticInputOptions } from "../datasets/synthetic-inputs.js";
import type { InputFacts } from "../reports/bench-record.js";
import type { MeasureJob } from "./bench-job.js";

/** Tokens per run for token-sequence sessions (llama-cpp) when no --shape says otherwise. */
const defaultTokenCount = 128;

interface LanguageModelSession extends Session {
  vocabularySize?: number;
  contextSize?: number;
}

/** Shapes for this session: the user's, plus a sensible token count for token-sequence models. */
export function effectiveShapes(session: LanguageModelSession, shapes: ShapeOverrides): ShapeOverrides {
  const specs = session.describe().inputs;
  const tokens = specs.find((spec) => spec.name === "tokens" && spec.shape.length === 1 && typeof spec.shape[0] !== "number");
  if (!tokens || shapes.tokens || (typeof tokens.shape[0] === "string" && shapes[tokens.shape[0]])) return shapes;
  return { ...shapes, tokens: [Math.min(defaultTokenCount, session.contextSize ?? defaultTokenCount)] };
}

export interface PreparedInputs {
  sets: NamedTensors[];
  facts: InputFacts;
  shapes: ShapeOverrides;
}

/** Generated (seeded, one set per seed) or dataset inputs, bound to the session's declared inputs. */
export async function prepareInputs(session: LanguageModelSession, job: MeasureJob): Promise<PreparedInputs> {
  const specs = session.describe().inputs;
  const shapes = effectiveShapes(session, job.shapes);
  const generation = (seed: number): SyntheticInputOptions => ({
    seed,
    shapes,
    unknownShapes: job.unknownShapes,
    ...(job.values ? { values: job.values } : {}),
    ...(session.vocabularySize ? { vocabularySize: session.vocabularySize } : {}),
  });
  const sets: NamedTensors[] = [];
  if (job.inputs.kind === "generated") {
    for (let k = 0; k < job.inputSets; k += 1) sets.push(generateInputs(specs, generation(job.seed + k)));
  } else {
    const dataset = await openDataset(job.inputs.folder, { spec: { kind: "npy", labels: "manifest" } });
    for await (const sample of dataset.samples()) sets.push(bindInputs(sample.inputs, specs, generation(job.seed + sets.length)));
  }
  const first = sets[0];
  if (!first) throw new EdgeforgeError("DATASET_INVALID", "no inputs to measure with", { hint: "the dataset is empty" });
  let totalBytes = 0;
  for (const set of sets) for (const tensor of Object.values(set)) totalBytes += tensor.data.byteLength;
  return {
    sets,
    shapes,
    facts: {
      source: job.inputs.kind,
      ...(job.inputs.kind === "generated" ? { seed: job.seed } : { dataset: job.inputs.source }),
      sets: sets.length,
      shapes: Object.fromEntries(Object.entries(first).map(([name, t]) => [name, t.dims])),
      dtypes: Object.fromEntries(Object.entries(first).map(([name, t]) => [name, t.dtype])),
      totalBytes,
    },
  };
}

/** Samples per run: the first input's leading dimension when it is a batch axis (rank ≥ 2). */
export function batchSizeOf(specs: readonly TensorSpec[], inputs: NamedTensors): number {
  const first = specs[0];
  const dims = first ? inputs[first.name]?.dims : undefined;
  return dims && dims.length >= 2 ? (dims[0] as number) : 1;
}

/** Tokens per run for token-sequence inputs (integer inputs named tokens / input_ids). */
export function tokensPerRun(specs: readonly TensorSpec[], inputs: NamedTensors): number | undefined {
  const spec = specs.find((s) => /^(tokens|input_ids)$/.test(s.name) && /int/.test(s.dtype));
  const tensor = spec ? inputs[spec.name] : undefined;
  return tensor ? elementCount(tensor.dims) : undefined;
}
