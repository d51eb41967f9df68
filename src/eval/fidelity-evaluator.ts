import { EdgeforgeError } from "../core/errors.js";
import type { Evaluator } from "./evaluator.js";
import { createFidelityAccumulator, type FidelityAccumulator, type FidelitySummary } from "./fidelity-metrics.js";
import { evaluationInputs } from "./sample-runs.js";
import { tensorNumbers } from "./tensor-values.js";

/**
 * How closely the model reproduces a baseline's outputs on the same inputs (dataset samples, or
 * seeded generated inputs): per output, max/mean absolute error, cosine similarity, SNR and top-1
 * agreement over the last axis. The first output (or options.outputName) gives the headline.
 */
export const fidelityEvaluator: Evaluator = {
  id: "fidelity",
  description: "output agreement with a baseline model on the same inputs",
  primaryMetric: "cosineSimilarity",
  baseline: "internal",
  needsDataset: false,
  async evaluate(context) {
    if (!context.baselinePath) {
      throw new EdgeforgeError("INVALID_OPTION", "fidelity compares against a baseline model", { hint: "pass --baseline BASE" });
    }
    const count = typeof context.options.samples === "number" ? context.options.samples : 16;
    const candidate = await context.openSession(context.modelPath, context.signal);
    const reference = await context.openSession(context.baselinePath, context.signal).catch(async (error: unknown) => {
      await candidate.close();
      throw error;
    });
    const perOutput = new Map<string, FidelityAccumulator>();
    let samples = 0;
    try {
      for await (const inputs of evaluationInputs(reference, context, count)) {
        const expected = await reference.run(inputs, { signal: context.signal });
        const actual = await candidate.run(inputs, { signal: context.signal });
        for (const [name, tensor] of Object.entries(expected)) {
          const other = actual[name];
          if (!other) continue;
          if (other.dims.join("x") !== tensor.dims.join("x")) {
            throw new EdgeforgeError("INVALID_OPTION", `output "${name}" has shape [${other.dims}] in the model but [${tensor.dims}] in the baseline`, {
              hint: "fidelity compares models with the same outputs (e.g. a model and its quantized variant)",
            });
          }
          let accumulator = perOutput.get(name);
          if (!accumulator) perOutput.set(name, (accumulator = createFidelityAccumulator()));
          accumulator.add(tensorNumbers(tensor), tensorNumbers(other), tensor.dims[tensor.dims.length - 1] ?? 1);
        }
        samples += 1;
      }
    } finally {
      await candidate.close();
      await reference.close();
    }
    const summaries: Record<string, FidelitySummary> = Object.fromEntries([...perOutput].map(([name, acc]) => [name, acc.summary()]));
    const primaryName = typeof context.options.outputName === "string" ? context.options.outputName : Object.keys(summaries)[0];
    const primary = primaryName === undefined ? undefined : summaries[primaryName];
    if (!primary) {
      throw new EdgeforgeError("INVALID_OPTION", "the model and the baseline share no output to compare", {
        hint: `baseline outputs: ${[...perOutput.keys()].join(", ") || "none matched"}`,
      });
    }
    return {
      sampleCount: samples,
      metrics: [
        { name: "cosineSimilarity", value: primary.cosineSimilarity, unit: "ratio", direction: "higher", description: primary.cosineAcrossSamples ? `cosine of "${primaryName}" across samples (one value per sample, whose own cosine is only its sign)` : `mean per-sample cosine of "${primaryName}"` },
        // Rows of one value (a score per sample) always share their argmax: no agreement to report.
        ...(primary.rows < primary.elements ? [{ name: "top1Agreement", value: primary.top1Agreement, unit: "ratio", direction: "higher" as const, description: "share of rows (last axis) with the same argmax" }] : []),
        { name: "snrDb", value: primary.snrDb, unit: "dB", direction: "higher", description: "10·log10(Σ baseline² / Σ error²)" },
        { name: "maxAbsError", value: primary.maxAbsError, unit: "", direction: "lower" },
        { name: "meanAbsError", value: primary.meanAbsError, unit: "", direction: "lower" },
      ],
      details: { output: primaryName, outputs: summaries },
    };
  },
};
