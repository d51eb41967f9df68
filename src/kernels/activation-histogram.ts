import type { QuantizationRange } from "./linear-quantization.js";

/**
 * A histogram of activation values over [-limit, limit) with a fixed number of equal bins. When a
 * later batch exceeds the limit, the limit doubles and pairs of bins merge, so memory stays fixed
 * and earlier batches keep counting (instead of being re-binned approximately).
 */
export class ActivationHistogram {
  readonly binCount: number;
  counts: Float64Array;
  limit = 0;
  min = Infinity;
  max = -Infinity;
  total = 0;

  constructor(binCount = 2048) {
    if (binCount % 4 !== 0 || binCount < 8) throw new RangeError("binCount must be a multiple of 4, at least 8");
    this.binCount = binCount;
    this.counts = new Float64Array(binCount);
  }

  add(values: Float32Array): void {
    let batchAbsMax = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
      const a = v < 0 ? -v : v;
      if (a > batchAbsMax) batchAbsMax = a;
    }
    if (batchAbsMax === 0 && this.limit === 0) {
      // All zeros so far: count them in the middle bin of a nominal range.
      this.limit = 1;
    }
    if (this.limit === 0) this.limit = batchAbsMax * (1 + 1e-6);
    while (batchAbsMax >= this.limit) this.doubleLimit();
    const half = this.binCount / 2;
    const binsPerUnit = half / this.limit;
    const counts = this.counts;
    const last = this.binCount - 1;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      let bin = Math.floor(v * binsPerUnit) + half;
      if (bin > last) bin = last;
      else if (bin < 0) bin = 0;
      counts[bin]! += 1;
    }
    this.total += values.length;
  }

  private doubleLimit(): void {
    const n = this.binCount;
    const merged = new Float64Array(n);
    // Old bins [0, n) cover [-L, L); new bins of twice the width cover [-2L, 2L), old range → new [n/4, 3n/4).
    for (let i = 0; i < n; i++) merged[n / 4 + (i >> 1)]! += this.counts[i]!;
    this.counts = merged;
    this.limit *= 2;
  }

  /** Edge `index` in [0, binCount]: -limit + index * width. */
  edge(index: number): number {
    return -this.limit + (index * 2 * this.limit) / this.binCount;
  }

  /**
   * The range that keeps `percentile` % of the values: symmetric ranges cut by magnitude, asymmetric
   * ones cut (100 - percentile) / 2 % from each tail. Clipped to the values actually seen.
   */
  percentileRange(percentile: number, symmetric: boolean): QuantizationRange {
    if (this.total === 0) return { min: 0, max: 0 };
    const n = this.binCount;
    const half = n / 2;
    if (symmetric) {
      const target = (percentile / 100) * this.total;
      let cumulative = 0;
      for (let r = 0; r < half; r++) {
        cumulative += this.counts[half + r]! + this.counts[half - 1 - r]!;
        if (cumulative >= target) {
          const threshold = this.edge(half + r + 1);
          return { min: Math.max(-threshold, this.min), max: Math.min(threshold, this.max) };
        }
      }
      return { min: this.min, max: this.max };
    }
    const tail = ((100 - percentile) / 200) * this.total;
    let low = 0;
    let cumulative = 0;
    for (; low < n - 1; low++) {
      cumulative += this.counts[low]!;
      if (cumulative > tail) break;
    }
    let high = n - 1;
    cumulative = 0;
    for (; high > 0; high--) {
      cumulative += this.counts[high]!;
      if (cumulative > tail) break;
    }
    return { min: Math.max(this.edge(low), this.min), max: Math.min(this.edge(high + 1), this.max) };
  }
}
