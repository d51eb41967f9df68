import { describeSamples, median } from "../../stats/describe-samples.js";

/**
 * Per-token quality figures over scored positions, accumulated chunk by chunk so memory stays
 * O(vocabulary), with the same definitions as llama-perplexity:
 * - perplexity = exp(mean NLL); its ± is ppl · sqrt((mean(NLL²) − mean(NLL)²) / (n − 1));
 * - KL divergence per token = Σ_i p_base,i · (log p_base,i − log p_cand,i) (natural log, nats);
 * - top-1 agreement = share of tokens where both models' highest logit is the same token.
 * Sums run in float64.
 */
export interface PerplexitySummary {
  perplexity: number;
  perplexityStandardError: number;
  meanNll: number;
  scoredTokens: number;
}

export interface KlDivergenceSummary {
  mean: number;
  median: number;
  p99: number;
  max: number;
  /** Standard error of the mean. */
  meanStandardError: number;
  scoredTokens: number;
}

export interface Top1AgreementSummary {
  ratio: number;
  sameTopTokens: number;
  scoredTokens: number;
}

/** log-softmax of row `row` of a [rows × vocab] logits array into `out` (float64). Returns the argmax. */
export function logSoftmaxRow(logits: Float32Array, row: number, vocab: number, out: Float64Array): number {
  const offset = row * vocab;
  let max = -Infinity;
  let argmax = 0;
  for (let i = 0; i < vocab; i += 1) {
    const value = logits[offset + i] as number;
    if (value > max) {
      max = value;
      argmax = i;
    }
  }
  let sum = 0;
  for (let i = 0; i < vocab; i += 1) sum += Math.exp((logits[offset + i] as number) - max);
  const logSum = max + Math.log(sum);
  for (let i = 0; i < vocab; i += 1) out[i] = (logits[offset + i] as number) - logSum;
  return argmax;
}

/** KL(P‖Q) for log-probability rows. */
export function klDivergence(logP: Float64Array, logQ: Float64Array): number {
  let kl = 0;
  for (let i = 0; i < logP.length; i += 1) {
    const lp = logP[i] as number;
    kl += Math.exp(lp) * (lp - (logQ[i] as number));
  }
  return Math.max(0, kl);
}

class NllAccumulator {
  private sum = 0;
  private sumSquares = 0;
  private count = 0;

  add(nll: number): void {
    this.sum += nll;
    this.sumSquares += nll * nll;
    this.count += 1;
  }

  summary(): PerplexitySummary {
    const meanNll = this.sum / this.count;
    const variance = this.sumSquares / this.count - meanNll * meanNll;
    const perplexity = Math.exp(meanNll);
    const standardError = this.count > 1 && variance > 0 ? perplexity * Math.sqrt(variance / (this.count - 1)) : 0;
    return { perplexity, perplexityStandardError: standardError, meanNll, scoredTokens: this.count };
  }
}

export class TokenScoreAccumulator {
  private readonly candidate = new NllAccumulator();
  private readonly base = new NllAccumulator();
  private klValues = new Float64Array(1024);
  private klCount = 0;
  private sameTop = 0;
  private readonly logQ: Float64Array;
  private readonly logP: Float64Array;

  constructor(private readonly vocabularySize: number) {
    this.logQ = new Float64Array(vocabularySize);
    this.logP = new Float64Array(vocabularySize);
  }

  /** Score rows of candidate logits (and the base model's, for KL/top-1) against the tokens they predict. */
  addRows(candidateLogits: Float32Array, targets: Int32Array, baseLogits?: Float32Array): void {
    const vocab = this.vocabularySize;
    for (let row = 0; row < targets.length; row += 1) {
      const target = targets[row] as number;
      const candidateTop = logSoftmaxRow(candidateLogits, row, vocab, this.logQ);
      this.candidate.add(-(this.logQ[target] as number));
      if (!baseLogits) continue;
      const baseTop = logSoftmaxRow(baseLogits, row, vocab, this.logP);
      this.base.add(-(this.logP[target] as number));
      if (baseTop === candidateTop) this.sameTop += 1;
      if (this.klCount === this.klValues.length) {
        const grown = new Float64Array(this.klValues.length * 2);
        grown.set(this.klValues);
        this.klValues = grown;
      }
      this.klValues[this.klCount] = klDivergence(this.logP, this.logQ);
      this.klCount += 1;
    }
  }

  perplexity(): PerplexitySummary {
    return this.candidate.summary();
  }

  basePerplexity(): PerplexitySummary | undefined {
    return this.klCount > 0 ? this.base.summary() : undefined;
  }

  klDivergence(): KlDivergenceSummary | undefined {
    if (this.klCount === 0) return undefined;
    const values = this.klValues.subarray(0, this.klCount);
    const summary = describeSamples(values);
    return {
      mean: summary.mean,
      median: median(values),
      p99: summary.p99,
      max: summary.max,
      meanStandardError: summary.sd / Math.sqrt(this.klCount),
      scoredTokens: this.klCount,
    };
  }

  top1Agreement(): Top1AgreementSummary | undefined {
    if (this.klCount === 0) return undefined;
    return { ratio: this.sameTop / this.klCount, sameTopTokens: this.sameTop, scoredTokens: this.klCount };
  }
}
