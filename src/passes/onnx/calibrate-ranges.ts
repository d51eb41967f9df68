import type { ModelProto } from "onnx-buf";
import type { QuantizationRange } from "../../kernels/linear-quantization.js";
import { createRangeCollector, type RangeCollector, type RangeCollectorOptions } from "../../kernels/range-collector.js";
import type { PassContext } from "../pass.js";
import { captureActivations } from "./activation-capture.js";
import { NameAllocator } from "./graph-edit.js";
import { InGraphReductions, scalarValue } from "./in-graph-reductions.js";

export interface CalibratedRanges {
  ranges: Map<string, QuantizationRange>;
  samples: number;
}

/** Run the calibration data and reduce each named activation to a range with the chosen method (none for a tensor no sample produced). */
export async function calibrateRanges(model: ModelProto, tensors: readonly string[], options: RangeCollectorOptions, context: PassContext): Promise<CalibratedRanges> {
  if (options.method === "minmax") return calibrateMinMax(model, tensors, context);
  const collectors = new Map<string, RangeCollector>(tensors.map((name) => [name, createRangeCollector(options)]));
  const seen = new Set<string>();
  const run = await captureActivations(model, tensors, context.calibrationData, context, (values) => {
    for (const [name, collector] of collectors) {
      const tensor = values[name];
      if (tensor?.dtype !== "float32" || tensor.data.length === 0) continue;
      collector.add(tensor.data as Float32Array);
      seen.add(name);
    }
  });
  // A tensor no sample produced (an If branch never taken) has no range: its nodes stay float.
  const ranges = new Map<string, QuantizationRange>();
  for (const [name, collector] of collectors) if (seen.has(name)) ranges.set(name, collector.computeRange());
  return { ranges, samples: run.samples };
}

/** minmax needs only each activation's extremes: the runtime reduces them, so only two scalars per activation come back. */
async function calibrateMinMax(model: ModelProto, tensors: readonly string[], context: PassContext): Promise<CalibratedRanges> {
  const reductions = new InGraphReductions(new NameAllocator(model));
  const outputs = tensors.map((name) => ({ name, min: reductions.reduce("ReduceMin", name), max: reductions.reduce("ReduceMax", name), range: { min: Infinity, max: -Infinity } }));
  const run = await captureActivations(
    model,
    reductions.outputs,
    context.calibrationData,
    context,
    (values) => {
      for (const { min, max, range } of outputs) {
        // NaN (an empty or non-finite activation) leaves the range as it was, as the element-wise collector does.
        const low = scalarValue(values, min);
        const high = scalarValue(values, max);
        if (low < range.min) range.min = low;
        if (high > range.max) range.max = high;
      }
    },
    "calibrate",
    reductions,
  );
  const ranges = new Map<string, QuantizationRange>();
  // Never seen (an If branch no sample ran: its empty stand-in reduces to ±inf): no range, the nodes stay float.
  for (const { name, range } of outputs) if (range.min <= range.max) ranges.set(name, range);
  return { ranges, samples: run.samples };
}
