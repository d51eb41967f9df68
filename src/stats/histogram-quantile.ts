/** One cumulative bucket of a Prometheus histogram: `count` observations were ≤ `le` (Infinity for +Inf). */
export interface HistogramBucket {
  le: number;
  count: number;
}

/**
 * The q-quantile of a cumulative histogram, computed as Prometheus' `histogram_quantile` does:
 * linear interpolation inside the bucket that holds the rank, the first bucket starting at 0, and
 * the highest finite bound when the rank falls in +Inf. Undefined when the histogram is empty.
 */
export function histogramQuantile(q: number, buckets: readonly HistogramBucket[]): number | undefined {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted[sorted.length - 1]?.count ?? 0;
  if (total <= 0 || !(q >= 0 && q <= 1)) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bucket of sorted) {
    if (bucket.count >= rank) {
      if (!Number.isFinite(bucket.le)) return lowerBound;
      const inBucket = bucket.count - lowerCount;
      return inBucket <= 0 ? bucket.le : lowerBound + ((bucket.le - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    lowerBound = bucket.le;
    lowerCount = bucket.count;
  }
  return lowerBound;
}
