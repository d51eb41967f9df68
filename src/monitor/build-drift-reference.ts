import { EdgeforgeError } from "../core/errors.js";
import type { Session } from "../core/session.js";
import { bindInputs } from "../datasets/bind-inputs.js";
import type { Dataset } from "../datasets/dataset.js";
import type { DriftReference } from "./model-monitor.js";
import { extractFeatures, planFeatures } from "./request-features.js";

/**
 * The reference for drift: each dataset sample run through the model once, its features computed
 * exactly as for a served request (the same function), one column per feature. At most `maxRows`
 * samples are read (the first ones, in the dataset's order).
 */
export async function buildDriftReference(session: Session, dataset: Dataset, maxRows: number, signal?: AbortSignal): Promise<DriftReference> {
  const { inputs, outputs } = session.describe();
  const features = planFeatures(inputs, outputs);
  const rows: Float64Array[] = [];
  for await (const sample of dataset.samples(signal)) {
    if (rows.length >= maxRows) break;
    const bound = bindInputs(sample.inputs, inputs);
    const results = await session.run(bound, signal ? { signal } : {});
    rows.push(extractFeatures(inputs, outputs, bound, results, new Float64Array(features.length)));
  }
  if (rows.length === 0) throw new EdgeforgeError("DATASET_INVALID", `the reference dataset ${dataset.source} has no samples`, { hint: "pass a dataset of inputs like the ones the model will serve" });
  const columns = features.map((_, k) => Float64Array.from(rows, (row) => row[k]!));
  return { source: dataset.source, rows: rows.length, columns };
}
