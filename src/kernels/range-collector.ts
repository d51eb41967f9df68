import { ActivationHistogram } from "./activation-histogram.js";
import { computeEntropyRange } from "./entropy-range.js";
import type { QuantizationRange } from "./linear-quantization.js";

export const calibrationMethods = ["minmax", "percentile", "entropy"] as const;
export type CalibrationMethod = (typeof calibrationMethods)[number];

export interface RangeCollectorOptions {
  method: CalibrationMethod;
  /** percentile: share of values kept, e.g. 99.999. */
  percentile?: number;
  /** percentile and entropy: histogram bins (multiple of 4). */
  binCount?: number;
  /** entropy: levels the kept range is squeezed into when measuring KL divergence. */
  quantizedBinCount?: number;
  /** Symmetric ranges cut by magnitude (percentile). */
  symmetric?: boolean;
}

/** Accumulates one activation tensor's values over calibration batches and turns them into a range. */
export interface RangeCollector {
  add(values: Float32Array): void;
  computeRange(): QuantizationRange;
}

class MinMaxCollector implements RangeCollector {
  private min = Infinity;
  private max = -Infinity;

  add(values: Float32Array): void {
    let { min, max } = this;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    this.min = min;
    this.max = max;
  }

  computeRange(): QuantizationRange {
    return this.min === Infinity ? { min: 0, max: 0 } : { min: this.min, max: this.max };
  }
}

export function createRangeCollector(options: RangeCollectorOptions): RangeCollector {
  if (options.method === "minmax") return new MinMaxCollector();
  const histogram = new ActivationHistogram(options.binCount ?? 2048);
  if (options.method === "percentile") {
    const percentile = options.percentile ?? 99.999;
    return {
      add: (values) => histogram.add(values),
      computeRange: () => histogram.percentileRange(percentile, options.symmetric ?? false),
    };
  }
  return {
    add: (values) => histogram.add(values),
    computeRange: () => computeEntropyRange(histogram, options.quantizedBinCount ?? 128),
  };
}
