import { EdgeforgeError } from "../core/errors.js";
import type { Session } from "../core/session.js";
import type { NamedTensors, Tensor } from "../core/tensor.js";
import { bindInputs } from "../datasets/bind-inputs.js";
import type { DatasetSample } from "../datasets/dataset.js";
import { generateInputs } from "../datasets/synthetic-inputs.js";
import type { EvaluationContext } from "./evaluator.js";

/** Dataset samples bound to the session's inputs (missing inputs generated), in order. */
export async function* boundSamples(session: Session, context: EvaluationContext): AsyncIterable<{ sample: DatasetSample; inputs: NamedTensors }> {
  if (!context.dataset) {
    throw new EdgeforgeError("DATASET_INVALID", "this evaluation needs a dataset", { hint: "pass --data FOLDER|FILE" });
  }
  const specs = session.describe().inputs;
  let index = 0;
  for await (const sample of context.dataset.samples(context.signal)) {
    const inputs = bindInputs(sample.inputs, specs, {
      seed: context.seed + index,
      shapes: context.shapes,
      ...(context.values ? { values: context.values } : {}),
    });
    index += 1;
    yield { sample, inputs };
  }
}

/** Dataset inputs when there is a dataset, else `count` seeded generated input sets. */
export async function* evaluationInputs(session: Session, context: EvaluationContext, count: number): AsyncIterable<NamedTensors> {
  if (context.dataset) {
    for await (const { inputs } of boundSamples(session, context)) yield inputs;
    return;
  }
  const specs = session.describe().inputs;
  for (let k = 0; k < count; k += 1) {
    context.signal?.throwIfAborted();
    yield generateInputs(specs, { seed: context.seed + k, shapes: context.shapes, ...(context.values ? { values: context.values } : {}) });
  }
}

/** The output an evaluator scores: the one named by options.outputName, else the model's first. */
export function pickOutput(session: Session, outputs: NamedTensors, outputName: unknown): { name: string; tensor: Tensor } {
  const name = typeof outputName === "string" ? outputName : session.describe().outputs[0]?.name;
  const tensor = name === undefined ? undefined : outputs[name];
  if (name === undefined || !tensor) {
    throw new EdgeforgeError("INVALID_OPTION", `the model has no output ${name === undefined ? "" : `"${name}"`}`.trim(), {
      hint: `outputs: ${Object.keys(outputs).join(", ")}`,
      details: { outputName: name },
    });
  }
  return { name, tensor };
}
