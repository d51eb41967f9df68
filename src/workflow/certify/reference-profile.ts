import type { NamedTensors } from "../../core/tensor.js";
import { describeSamples } from "../../stats/describe-samples.js";
import { argmax } from "../../eval/tensor-values.js";
import { firstOutput, type ProbeSet } from "./session-probes.js";

export interface Histogram {
  min: number;
  max: number;
  counts: number[];
}

export interface ValueProfile {
  count: number;
  mean: number;
  sd: number;
  min: number;
  p50: number;
  max: number;
  histogram: Histogram;
}

export interface ReferenceProfile {
  source: string;
  inputs: Record<string, ValueProfile>;
  predictions: {
    /** Share of rows predicting each class / token id (the 20 most frequent). */
    topClasses: Array<{ id: number; share: number }>;
    /** Softmax probability of the top-1 prediction per row. */
    confidence: ValueProfile;
  };
}

export function histogramOf(values: ArrayLike<number>, bins: number, range?: { min: number; max: number }): Histogram {
  let min = range?.min ?? Infinity;
  let max = range?.max ?? -Infinity;
  if (!range) {
    for (let i = 0; i < values.length; i++) {
      min = Math.min(min, values[i] as number);
      max = Math.max(max, values[i] as number);
    }
  }
  const counts = new Array<number>(bins).fill(0);
  const width = max > min ? (max - min) / bins : 1;
  for (let i = 0; i < values.length; i++) {
    const bin = Math.min(bins - 1, Math.max(0, Math.floor(((values[i] as number) - min) / width)));
    counts[bin] = (counts[bin] ?? 0) + 1;
  }
  return { min, max, counts };
}

export function profileValues(values: ArrayLike<number>, bins: number, range?: { min: number; max: number }): ValueProfile {
  const stats = describeSamples(values);
  return { count: stats.count, mean: stats.mean, sd: stats.sd, min: stats.min, p50: stats.p50, max: stats.max, histogram: histogramOf(values, bins, range) };
}

/** Per-input value statistics and the distribution of predictions and their confidence: the baseline drift is judged against. */
export function buildReferenceProfile(probes: ProbeSet, bins: number): ReferenceProfile {
  const inputs: Record<string, ValueProfile> = {};
  for (const spec of probes.specs) {
    const values: number[] = [];
    for (const sample of probes.inputs) {
      const tensor = sample[spec.name];
      if (!tensor) continue;
      // token inputs are profiled by length: ids have no meaningful mean
      if (probes.kind === "tokens") values.push(tensor.dims[0] ?? 0);
      else for (let i = 0; i < tensor.data.length; i++) values.push(Number(tensor.data[i]));
    }
    if (values.length > 0) inputs[spec.name] = profileValues(values, bins);
  }
  const classCounts = new Map<number, number>();
  const confidences: number[] = [];
  let rows = 0;
  for (const outputs of probes.outputs as NamedTensors[]) {
    const { values, rowLength } = firstOutput(outputs);
    for (let offset = 0; offset + rowLength <= values.length; offset += rowLength) {
      const top = argmax(values, offset, rowLength);
      classCounts.set(top, (classCounts.get(top) ?? 0) + 1);
      const max = values[offset + top] as number;
      let sum = 0;
      let probabilities = true;
      for (let j = 0; j < rowLength; j++) {
        const v = values[offset + j] as number;
        if (v < 0 || v > 1) probabilities = false;
        sum += v;
      }
      // outputs that already are probabilities (a softmax in the graph) are read as such
      if (probabilities && Math.abs(sum - 1) < 1e-3) confidences.push(max);
      else {
        let expSum = 0;
        for (let j = 0; j < rowLength; j++) expSum += Math.exp((values[offset + j] as number) - max);
        confidences.push(1 / expSum);
      }
      rows++;
    }
  }
  const topClasses = [...classCounts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20).map(([id, count]) => ({ id, share: count / rows }));
  return { source: probes.source, inputs, predictions: { topClasses, confidence: profileValues(confidences, bins, { min: 0, max: 1 }) } };
}
