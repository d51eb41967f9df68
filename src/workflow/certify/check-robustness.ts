import { EdgeforgeError } from "../../core/errors.js";
import type { Session } from "../../core/session.js";
import type { NamedTensors, Tensor } from "../../core/tensor.js";
import { createFidelityAccumulator } from "../../eval/fidelity-metrics.js";
import { validateSessionInputs } from "../../runtimes/validate-session-inputs.js";
import { createRandom } from "../../stats/random.js";
import { firstOutput, floatValues, maxAbsDifference, meanNll, type ProbeSet } from "./session-probes.js";

export interface PerturbationResult {
  name: string;
  description: string;
  /** 1 − mean cosine similarity of outputs (ONNX), or perplexity ratio − 1 (token models: llama.cpp, MLX). */
  degradation: number;
  top1Agreement?: number;
  passed: boolean;
}

export interface BadInputResult {
  name: string;
  /** What the input guard said (INVALID_INPUT expected). */
  guard: { rejected: boolean; code?: string; message?: string };
  /** What the engine did with the same input unguarded, where that is safe to try. */
  engine?: { outcome: "error" | "accepted"; code?: string; message?: string };
  /** A clean input afterwards gave the same output as before (max |Δ| ≤ 1e-6). */
  runtimeUsable: boolean;
  passed: boolean;
}

export interface RobustnessSection {
  inputs: string;
  maxDegradation: number;
  perturbations: PerturbationResult[];
  badInputs: BadInputResult[];
  notes: string[];
}

function mapFloats(inputs: NamedTensors, fn: (values: Float32Array | Float64Array) => Float32Array | Float64Array): NamedTensors {
  return Object.fromEntries(Object.entries(inputs).map(([name, tensor]) => {
    const values = floatValues(tensor);
    return [name, values ? { ...tensor, data: fn(values) } : tensor];
  }));
}

function rangeOf(values: ArrayLike<number>): { min: number; max: number; mean: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  return { min, max, mean: sum / Math.max(1, values.length) };
}

/** Noise, a shift and a scaling of every float input; the last two named as images know them (brightness, contrast) when an input is image-like. */
function perturbationsFor(imageLike: boolean) {
  return [
    { name: "gaussian-noise", description: "additive Gaussian noise, sd 5% of the input's range", apply: (v: Float32Array | Float64Array, seed: number) => {
        const random = createRandom(seed);
        const { min, max } = rangeOf(v);
        return v.map((x) => x + random.normal(0, 0.05 * (max - min || 1)));
      } },
    { name: imageLike ? "brightness" : "offset", description: "every value shifted by +10% of the input's range", apply: (v: Float32Array | Float64Array) => {
        const { min, max } = rangeOf(v);
        return v.map((x) => x + 0.1 * (max - min || 1));
      } },
    { name: imageLike ? "contrast" : "gain", description: "values scaled by 0.8 around their mean", apply: (v: Float32Array | Float64Array) => {
        const { mean } = rangeOf(v);
        return v.map((x) => mean + 0.8 * (x - mean));
      } },
  ];
}

async function perturbOnnx(session: Session, probes: ProbeSet, maxDegradation: number): Promise<PerturbationResult[]> {
  if (!probes.specs.some((spec) => spec.dtype === "float32" || spec.dtype === "float64")) return [];
  const results: PerturbationResult[] = [];
  // Image-like: a float input of rank 4 (N, C, H, W or N, H, W, C); audio, features and states are not.
  const imageLike = probes.specs.some((spec) => (spec.dtype === "float32" || spec.dtype === "float64") && spec.shape.length === 4);
  for (const perturbation of perturbationsFor(imageLike)) {
    const fidelity = createFidelityAccumulator();
    for (const [i, input] of probes.inputs.entries()) {
      const perturbed = await session.run(mapFloats(input, (v) => perturbation.apply(v, 1000 + i)));
      const clean = firstOutput(probes.outputs[i] as NamedTensors);
      fidelity.add(clean.values, firstOutput(perturbed).values, clean.rowLength);
    }
    const summary = fidelity.summary();
    const degradation = 1 - summary.cosineSimilarity;
    results.push({ name: perturbation.name, description: perturbation.description, degradation, top1Agreement: summary.top1Agreement, passed: degradation <= maxDegradation });
  }
  return results;
}

async function perturbLlm(session: Session, probes: ProbeSet, maxDegradation: number): Promise<PerturbationResult[]> {
  const vocabularySize = probes.vocabularySize ?? 0;
  const random = createRandom(7);
  let clean = 0;
  let dropped = 0;
  for (const [i, input] of probes.inputs.entries()) {
    const tokens = input.tokens?.data as Int32Array;
    clean += meanNll(firstOutput(probes.outputs[i] as NamedTensors).values, tokens, vocabularySize);
    const kept = tokens.filter((_, index) => index === 0 || random.next() >= 0.1);
    const output = await session.run({ tokens: { dtype: "int32", dims: [kept.length], data: kept } });
    dropped += meanNll(firstOutput(output).values, kept, vocabularySize);
  }
  const ratio = Math.exp((dropped - clean) / probes.inputs.length);
  return [{ name: "token-dropout", description: "10% of the tokens dropped at random (seeded); perplexity on the remaining sequence vs the intact one", degradation: ratio - 1, passed: ratio - 1 <= maxDegradation }];
}

function badInputCases(probes: ProbeSet): Array<{ name: string; inputs: NamedTensors; tryEngine: boolean }> {
  const clean = probes.inputs[0] as NamedTensors;
  const [name, tensor] = Object.entries(clean)[0] as [string, Tensor];
  const withFirst = (replacement: Tensor): NamedTensors => ({ ...clean, [name]: replacement });
  if (probes.kind === "tokens") {
    const vocab = probes.vocabularySize ?? 0;
    return [
      { name: "token id beyond the vocabulary", inputs: withFirst({ dtype: "int32", dims: [2], data: Int32Array.from([1, vocab + 5]) }), tryEngine: false },
      { name: "negative token id", inputs: withFirst({ dtype: "int32", dims: [2], data: Int32Array.from([1, -3]) }), tryEngine: false },
      { name: "empty", inputs: withFirst({ dtype: "int32", dims: [0], data: new Int32Array(0) }), tryEngine: false },
      { name: "wrong dtype (float32 tokens)", inputs: withFirst({ dtype: "float32", dims: [2], data: Float32Array.from([1, 2]) }), tryEngine: false },
      { name: "huge (beyond the context)", inputs: withFirst({ dtype: "int32", dims: [(probes.contextSize ?? 0) + 1], data: new Int32Array((probes.contextSize ?? 0) + 1).fill(1) }), tryEngine: false },
    ];
  }
  const floats = floatValues(tensor);
  const cases: Array<{ name: string; inputs: NamedTensors; tryEngine: boolean }> = [
    { name: "wrong shape (extra axis)", inputs: withFirst({ ...tensor, dims: [1, ...tensor.dims] }), tryEngine: true },
    { name: "wrong dtype (int32)", inputs: withFirst({ dtype: "int32", dims: tensor.dims, data: new Int32Array(tensor.data.length) }), tryEngine: true },
    { name: "empty (a zero dimension)", inputs: withFirst({ ...tensor, dims: tensor.dims.map((d, i) => (i === tensor.dims.length - 1 ? 0 : d)), data: floats ? new Float32Array(0) : tensor.data }), tryEngine: false },
    // dims only: the guard refuses from the dims, so the huge buffer is never allocated
    { name: "huge (2^31 elements)", inputs: withFirst({ ...tensor, dims: [...tensor.dims.slice(0, -1), 2 ** 31] }), tryEngine: false },
  ];
  if (floats) {
    cases.unshift(
      { name: "NaN values", inputs: withFirst({ ...tensor, data: floats.map((v, i) => (i % 7 === 0 ? Number.NaN : v)) }), tryEngine: true },
      { name: "Infinity values", inputs: withFirst({ ...tensor, data: floats.map((v, i) => (i === 0 ? Number.POSITIVE_INFINITY : v)) }), tryEngine: true },
    );
  }
  return cases;
}

async function checkBadInputs(session: Session, probes: ProbeSet): Promise<BadInputResult[]> {
  const results: BadInputResult[] = [];
  const limits = { ...(probes.vocabularySize ? { vocabularySize: probes.vocabularySize } : {}), ...(probes.contextSize ? { maxTokens: probes.contextSize } : {}) };
  for (const testCase of badInputCases(probes)) {
    let guard: BadInputResult["guard"] = { rejected: false };
    try {
      validateSessionInputs(testCase.inputs, probes.specs, limits);
    } catch (error) {
      guard = { rejected: EdgeforgeError.isInstance(error) && error.code === "INVALID_INPUT", ...(EdgeforgeError.isInstance(error) ? { code: error.code } : {}), message: (error as Error).message };
    }
    let engine: BadInputResult["engine"];
    if (testCase.tryEngine) {
      try {
        const output = await session.run(testCase.inputs);
        engine = { outcome: "accepted", message: firstOutput(output).values.every(Number.isFinite) ? "outputs returned" : "outputs hold NaN or Infinity" };
      } catch (error) {
        engine = { outcome: "error", ...(EdgeforgeError.isInstance(error) ? { code: error.code } : {}), message: (error as Error).message.slice(0, 200) };
      }
    }
    const after = await session.run(probes.inputs[0] as NamedTensors);
    const runtimeUsable = maxAbsDifference(after, probes.outputs[0] as NamedTensors) <= 1e-6;
    results.push({ name: testCase.name, guard, ...(engine ? { engine } : {}), runtimeUsable, passed: guard.rejected && runtimeUsable });
  }
  return results;
}

/** Perturbed inputs with the output degradation, and bad inputs that must be refused with the runtime left usable. */
export async function checkRobustness(session: Session, probes: ProbeSet, maxDegradation: number): Promise<RobustnessSection> {
  const perturbations = probes.kind === "tokens" ? await perturbLlm(session, probes, maxDegradation) : await perturbOnnx(session, probes, maxDegradation);
  const notes = perturbations.length === 0 ? ["no floating-point input to perturb"] : [];
  return { inputs: probes.source, maxDegradation, perturbations, badInputs: await checkBadInputs(session, probes), notes };
}
