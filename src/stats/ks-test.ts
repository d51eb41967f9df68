/** Two-sample Kolmogorov–Smirnov test, two-sided. */
export interface KsTestResult {
  /** D = sup |F_a − F_b|. */
  statistic: number;
  pValue: number;
  /** "exact": the Smirnov lattice-path probability (no-ties formula); "asymptotic": the limiting Kolmogorov distribution at √(mn/(m+n))·D. */
  method: "exact" | "asymptotic";
}

/** Above this many lattice cells (m·n) the asymptotic p-value is used; the exact one costs O(m·n). */
export const ksExactMaxCells = 1_000_000;

function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

/** D of two ascending samples; tied values advance both sides together. */
function ksStatistic(a: Float64Array, b: Float64Array): number {
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < a.length && j < b.length) {
    const value = Math.min(a[i] as number, b[j] as number);
    while (i < a.length && (a[i] as number) === value) i += 1;
    while (j < b.length && (b[j] as number) === value) j += 1;
    d = Math.max(d, Math.abs(i / a.length - j / b.length));
  }
  return d;
}

/**
 * P(D ≥ d) for continuous data: one minus the share of lattice paths from (0,0) to (m,n) that stay
 * inside |i/m − j/n| < d, each path weighted by 1/C(m+n, m) on the fly (R's psmirnov2x).
 */
function exactPValue(d: number, sizeA: number, sizeB: number): number {
  const m = Math.min(sizeA, sizeB);
  const n = Math.max(sizeA, sizeB);
  const q = (0.5 + Math.floor(d * m * n - 1e-7)) / (m * n);
  const u = new Float64Array(n + 1);
  for (let j = 0; j <= n; j += 1) u[j] = j / n > q ? 0 : 1;
  for (let i = 1; i <= m; i += 1) {
    const w = i / (i + n);
    u[0] = i / m > q ? 0 : w * (u[0] as number);
    for (let j = 1; j <= n; j += 1) {
      u[j] = Math.abs(i / m - j / n) > q ? 0 : w * (u[j] as number) + (u[j - 1] as number);
    }
  }
  return Math.min(1, Math.max(0, 1 - (u[n] as number)));
}

/** Survival function of the Kolmogorov distribution, P(K > x) (series as in R's pkolmogorov1x). */
export function kolmogorovSurvival(x: number): number {
  if (x <= 0) return 1;
  if (x < 1) {
    const z = -(Math.PI * Math.PI) / (8 * x * x);
    let sum = 0;
    for (let k = 1; k < 40; k += 2) sum += Math.exp(k * k * z);
    return Math.min(1, Math.max(0, 1 - (Math.sqrt(2 * Math.PI) / x) * sum));
  }
  let sum = 0;
  for (let k = 1; k <= 100; k += 1) {
    const term = Math.exp(-2 * k * k * x * x);
    sum += (k % 2 === 1 ? 2 : -2) * term;
    if (term < 1e-17) break;
  }
  return Math.min(1, Math.max(0, sum));
}

/** Two-sample KS test; exact when m·n ≤ `exactMaxCells`, asymptotic otherwise. Samples are not modified. */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>, exactMaxCells = ksExactMaxCells): KsTestResult {
  if (a.length === 0 || b.length === 0) return { statistic: 0, pValue: 1, method: "exact" };
  const statistic = ksStatistic(sortedCopy(a), sortedCopy(b));
  if (a.length * b.length <= exactMaxCells) return { statistic, pValue: exactPValue(statistic, a.length, b.length), method: "exact" };
  const effectiveN = (a.length * b.length) / (a.length + b.length);
  return { statistic, pValue: kolmogorovSurvival(Math.sqrt(effectiveN) * statistic), method: "asymptotic" };
}
