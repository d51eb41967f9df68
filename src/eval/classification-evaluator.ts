import { EdgeforgeError } from "../core/errors.js";
import type { Evaluator } from "./evaluator.js";
import { boundSamples, pickOutput } from "./sample-runs.js";
import { tensorNumbers, topK } from "./tensor-values.js";

/** Top-1 and top-5 accuracy of class scores (the last axis of the chosen output) against integer labels. */
export const classificationEvaluator: Evaluator = {
  id: "classification",
  description: "top-1 / top-5 accuracy on a labelled dataset (folder per class, or a manifest)",
  primaryMetric: "top1Accuracy",
  baseline: "rerun",
  needsDataset: true,
  async evaluate(context) {
    const session = await context.openSession(context.modelPath, context.signal);
    let samples = 0;
    let top1 = 0;
    let top5 = 0;
    let classes = 0;
    try {
      for await (const { sample, inputs } of boundSamples(session, context)) {
        const label = labelIndex(sample.label, sample.id, context.dataset?.classNames);
        const { tensor } = pickOutput(session, await session.run(inputs, { signal: context.signal }), context.options.outputName);
        const scores = tensorNumbers(tensor);
        classes = tensor.dims[tensor.dims.length - 1] ?? scores.length;
        if (scores.length !== classes) {
          throw new EdgeforgeError("INVALID_OPTION", `output has shape [${tensor.dims.join(", ")}]; classification expects one row of class scores per sample`, {
            hint: "feed one sample per run (batch 1), or choose the class-score output with --output",
          });
        }
        const best = topK(scores, Math.min(5, classes));
        if (best[0] === label) top1 += 1;
        if (best.includes(label)) top5 += 1;
        samples += 1;
      }
    } finally {
      await session.close();
    }
    if (samples === 0) throw new EdgeforgeError("DATASET_INVALID", "the dataset has no samples", { hint: "add labelled samples" });
    return {
      sampleCount: samples,
      metrics: [
        { name: "top1Accuracy", value: top1 / samples, unit: "ratio", direction: "higher", description: "share of samples whose best class is the label" },
        { name: "top5Accuracy", value: top5 / samples, unit: "ratio", direction: "higher", description: `share of samples with the label among the ${Math.min(5, classes)} best classes` },
      ],
      details: { classes },
    };
  },
};

function labelIndex(label: number | string | undefined, id: string, classNames: readonly string[] | undefined): number {
  if (typeof label === "number") return label;
  if (typeof label === "string" && classNames?.includes(label)) return classNames.indexOf(label);
  throw new EdgeforgeError("DATASET_INVALID", `sample ${id} has ${label === undefined ? "no label" : `the label "${label}", which is not a class index`}`, {
    hint: "classification needs integer labels: one sub-folder per class, or a manifest with numeric labels (or class names listed in dataset.json's classes)",
    details: { id, label },
  });
}
