import { EdgeforgeError } from "../../core/errors.js";
import type { OpenSession, Session } from "../../core/session.js";
import type { NamedTensors } from "../../core/tensor.js";
import { bindInputs } from "../../datasets/bind-inputs.js";
import type { Dataset } from "../../datasets/dataset.js";
import { createFidelityAccumulator } from "../../eval/fidelity-metrics.js";
import type { PassContext } from "../pass.js";
import { checkSampleFits } from "./activation-capture.js";

export const dropMetrics = ["auto", "accuracy", "top1-agreement", "cosine"] as const;
export type DropMetric = (typeof dropMetrics)[number];

/** The float model's behaviour on the evaluation data, which every candidate is measured against. */
export interface Reference {
  metric: Exclude<DropMetric, "auto">;
  samples: { id: string; inputs: NamedTensors; outputs: NamedTensors; label?: number }[];
  /** accuracy: the float model's top-1 accuracy; other metrics: 1 (agreement with itself). */
  score: number;
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

async function runAll(session: Session, samples: readonly { inputs: NamedTensors }[], context: PassContext): Promise<NamedTensors[]> {
  const outputs: NamedTensors[] = [];
  for (const sample of samples) outputs.push(await session.run(sample.inputs, { signal: context.signal }));
  return outputs;
}

async function withSession<T>(openSession: OpenSession, modelPath: string, context: PassContext, use: (session: Session) => Promise<T>): Promise<T> {
  const session = await openSession(modelPath, context.signal);
  try {
    return await use(session);
  } finally {
    await session.close();
  }
}

/** Run the float model once over the evaluation data; `auto` picks accuracy when every sample has a class label. */
export function measureReference(floatPath: string, dataset: Dataset, metric: DropMetric, context: PassContext): Promise<Reference> {
  // One session gives the input specs the samples are bound to and then runs them.
  return withSession(context.openSession!, floatPath, context, (session) => referenceOn(session, dataset, metric, context));
}

async function referenceOn(session: Session, dataset: Dataset, metric: DropMetric, context: PassContext): Promise<Reference> {
  const specs = session.describe().inputs;
  const samples: Reference["samples"] = [];
  for await (const sample of dataset.samples(context.signal)) {
    const inputs = bindInputs(sample.inputs, specs, { seed: 1 });
    checkSampleFits(inputs, specs, sample.id, dataset.source);
    samples.push({ id: sample.id, inputs, outputs: {}, ...(typeof sample.label === "number" ? { label: sample.label } : {}) });
  }
  if (samples.length === 0) {
    throw new EdgeforgeError("DATASET_INVALID", `the evaluation data ${dataset.source} yielded no samples`, { details: { source: dataset.source } });
  }
  const resolved = metric === "auto" ? (samples.every((s) => s.label !== undefined) ? "accuracy" : "cosine") : metric;
  if (resolved === "accuracy" && samples.some((s) => s.label === undefined)) {
    throw new EdgeforgeError("DATASET_INVALID", `metric "accuracy" needs a class label on every evaluation sample of ${dataset.source}`, {
      hint: "label the data (one sub-folder per class, or a manifest), or use --metric cosine / top1-agreement",
    });
  }
  const outputs = await runAll(session, samples, context);
  samples.forEach((s, i) => (s.outputs = outputs[i]!));
  const reference: Reference = { metric: resolved, samples, score: 1 };
  if (resolved === "accuracy") reference.score = accuracy(reference, outputs);
  return reference;
}

function accuracy(reference: Reference, outputs: readonly NamedTensors[]): number {
  let correct = 0;
  reference.samples.forEach((sample, i) => {
    const first = Object.values(outputs[i]!)[0];
    if (first && argmax(first.data as ArrayLike<number>) === sample.label) correct++;
  });
  return correct / reference.samples.length;
}

/** A candidate's score on the reference's metric (accuracy, or agreement with the float outputs). */
export async function measureCandidate(modelPath: string, reference: Reference, context: PassContext): Promise<number> {
  const outputs = await withSession(context.openSession!, modelPath, context, (session) => runAll(session, reference.samples, context));
  if (reference.metric === "accuracy") return accuracy(reference, outputs);
  const fidelity = createFidelityAccumulator();
  reference.samples.forEach((sample, i) => {
    for (const [name, expected] of Object.entries(sample.outputs)) {
      const actual = outputs[i]![name];
      if (!actual) continue;
      const rowLength = expected.dims[expected.dims.length - 1] ?? 1;
      fidelity.add(expected.data as ArrayLike<number>, actual.data as ArrayLike<number>, rowLength);
    }
  });
  const summary = fidelity.summary();
  return reference.metric === "cosine" ? summary.cosineSimilarity : summary.top1Agreement;
}

/** Drop from the float score: absolute (score points) or relative (share of the float score). */
export function scoreDrop(reference: Reference, score: number, kind: "absolute" | "relative"): number {
  const drop = reference.score - score;
  return kind === "absolute" ? drop : reference.score === 0 ? 0 : drop / reference.score;
}
