import { EdgeforgeError } from "../core/errors.js";
import { decodeCtcGreedy, editDistance, readCtcKeys } from "./ctc-decode.js";
import type { Evaluator } from "./evaluator.js";
import { boundSamples, pickOutput } from "./sample-runs.js";
import { tensorNumbers } from "./tensor-values.js";

/**
 * OCR-style sequence accuracy: greedy CTC decoding with a keys file, exact match and character
 * error rate. Spaces are ignored when comparing unless options.ignoreSpace is false (PaddleOCR's
 * RecMetric does the same: space classes are unreliable at word gaps and in padding).
 */
export const ctcEvaluator: Evaluator = {
  id: "ctc",
  description: "greedy CTC decoding against text labels: sequence exact match and character error rate",
  primaryMetric: "exactMatch",
  baseline: "rerun",
  needsDataset: true,
  async evaluate(context) {
    const keysPath = context.options.keys;
    if (typeof keysPath !== "string") {
      throw new EdgeforgeError("INVALID_OPTION", "CTC decoding needs the model's character list", { hint: "pass --keys FILE (e.g. PaddleOCR's ppocr_keys_v1.txt)" });
    }
    const charset = await readCtcKeys(keysPath, context.options.useSpace !== false);
    const normalize = context.options.ignoreSpace === false ? (text: string) => text : (text: string) => text.replace(/ /g, "");
    const session = await context.openSession(context.modelPath, context.signal);
    let samples = 0;
    let exact = 0;
    let edits = 0;
    let labelCharacters = 0;
    const examples: { id: string; label: string; prediction: string }[] = [];
    try {
      for await (const { sample, inputs } of boundSamples(session, context)) {
        if (typeof sample.label !== "string") {
          throw new EdgeforgeError("DATASET_INVALID", `sample ${sample.id} has no text label`, { hint: 'give each sample a text label in the manifest: {"file": "line.png", "label": "text"}' });
        }
        const { tensor } = pickOutput(session, await session.run(inputs, { signal: context.signal }), context.options.outputName);
        const rank = tensor.dims.length;
        const classes = tensor.dims[rank - 1] ?? 0;
        const steps = tensor.dims[rank - 2] ?? 0;
        if (rank < 2 || tensor.dims.slice(0, -2).some((d) => d !== 1)) {
          throw new EdgeforgeError("INVALID_OPTION", `CTC output has shape [${tensor.dims.join(", ")}]; expected [1, steps, classes]`, { hint: "choose the per-step class-score output with --output" });
        }
        const prediction = decodeCtcGreedy(tensorNumbers(tensor), steps, classes, charset);
        const expected = normalize(sample.label);
        const actual = normalize(prediction);
        if (actual === expected) exact += 1;
        edits += editDistance(actual, expected);
        labelCharacters += [...expected].length;
        if (examples.length < 20) examples.push({ id: sample.id, label: sample.label, prediction });
        samples += 1;
      }
    } finally {
      await session.close();
    }
    if (samples === 0) throw new EdgeforgeError("DATASET_INVALID", "the dataset has no samples", { hint: "add labelled text-line images" });
    return {
      sampleCount: samples,
      metrics: [
        { name: "exactMatch", value: exact / samples, unit: "ratio", direction: "higher", description: "share of samples decoded exactly" },
        { name: "characterErrorRate", value: labelCharacters === 0 ? 0 : edits / labelCharacters, unit: "ratio", direction: "lower", description: "edit distance / label length, over all samples" },
      ],
      details: { examples, ignoreSpace: context.options.ignoreSpace !== false },
    };
  },
};
