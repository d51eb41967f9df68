/** Regularized upper incomplete gamma Q(a, x) (series below a + 1, continued fraction above; Numerical Recipes §6.2). */
export function upperRegularizedGamma(a: number, x: number): number {
  if (x <= 0) return 1;
  const logPrefix = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000; n += 1) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.min(1, Math.max(0, 1 - sum * Math.exp(logPrefix)));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i += 1) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.min(1, Math.max(0, Math.exp(logPrefix) * h));
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error below 1e-15). */
export function logGamma(x: number): number {
  const coefficients = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let sum = coefficients[0] as number;
  for (let i = 1; i < 9; i += 1) sum += (coefficients[i] as number) / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** P(χ²_df > x). */
export function chiSquareSurvival(x: number, degreesOfFreedom: number): number {
  return upperRegularizedGamma(degreesOfFreedom / 2, x / 2);
}

export interface ChiSquareTestResult {
  statistic: number;
  degreesOfFreedom: number;
  pValue: number;
}

/**
 * Chi-square test of homogeneity of two count vectors over the same categories (a 2×k contingency
 * table, no continuity correction: scipy's chi2_contingency(correction=False)). Categories empty in
 * both are dropped; with fewer than two left the samples cannot differ (p = 1).
 */
export function chiSquareHomogeneity(countsA: ArrayLike<number>, countsB: ArrayLike<number>): ChiSquareTestResult {
  let totalA = 0;
  let totalB = 0;
  let categories = 0;
  for (let k = 0; k < countsA.length; k += 1) {
    totalA += countsA[k] as number;
    totalB += countsB[k] as number;
    if ((countsA[k] as number) + (countsB[k] as number) > 0) categories += 1;
  }
  if (categories < 2 || totalA === 0 || totalB === 0) return { statistic: 0, degreesOfFreedom: Math.max(0, categories - 1), pValue: 1 };
  const total = totalA + totalB;
  let statistic = 0;
  for (let k = 0; k < countsA.length; k += 1) {
    const column = (countsA[k] as number) + (countsB[k] as number);
    if (column === 0) continue;
    const expectedA = (totalA * column) / total;
    const expectedB = (totalB * column) / total;
    statistic += ((countsA[k] as number) - expectedA) ** 2 / expectedA + ((countsB[k] as number) - expectedB) ** 2 / expectedB;
  }
  const degreesOfFreedom = categories - 1;
  return { statistic, degreesOfFreedom, pValue: chiSquareSurvival(statistic, degreesOfFreedom) };
}
