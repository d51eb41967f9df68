import type { ModelProto } from "onnx-buf";
import type { QuantizationRange } from "../../kernels/linear-quantization.js";
import { createRangeCollector, type RangeCollector, type RangeCollectorOptions } from "../../kernels/range-collector.js";
import type { PassContext } from "../pass.js";
import { captureActivations } from "./activation-capture.js";

export interface CalibratedRanges {
  ranges: Map<string, QuantizationRange>;
  samples: number;
}

/** Run the calibration data and reduce each named activation to a range with the chosen method. */
export async function calibrateRanges(model: ModelProto, tensors: readonly string[], options: RangeCollectorOptions, context: PassContext): Promise<CalibratedRanges> {
  const collectors = new Map<string, RangeCollector>(tensors.map((name) => [name, createRangeCollector(options)]));
  const run = await captureActivations(model, tensors, context.calibrationData, context, (values) => {
    for (const [name, collector] of collectors) {
      const tensor = values[name];
      if (tensor?.dtype === "float32") collector.add(tensor.data as Float32Array);
    }
  });
  const ranges = new Map<string, QuantizationRange>();
  for (const [name, collector] of collectors) ranges.set(name, collector.computeRange());
  return { ranges, samples: run.samples };
}
