import { readFile } from "node:fs/promises";
import { EdgeforgeError } from "../../core/errors.js";
import type { TokenSession } from "../../core/llm-session.js";
import type { Session } from "../../core/session.js";
import type { ShapeOverrides } from "../../core/shapes.js";
import type { NamedTensors, Tensor, TensorSpec } from "../../core/tensor.js";
import { generateInputs } from "../../datasets/synthetic-inputs.js";
import type { LlamaCppSession } from "../../runtimes/llama-cpp/llama-cpp-runtime.js";

/** The inputs and clean outputs every session check starts from: token sequences (llama.cpp, MLX) or tensors (ONNX). */
export interface ProbeSet {
  kind: "tensors" | "tokens";
  specs: TensorSpec[];
  inputs: NamedTensors[];
  outputs: NamedTensors[];
  source: string;
  vocabularySize?: number;
  contextSize?: number;
}

export function isLlamaSession(session: Session): session is LlamaCppSession {
  return typeof (session as Partial<LlamaCppSession>).tokenize === "function";
}

/** A session over token ids ({ tokens: int32 [n] } → logits): llama.cpp's, or MLX's (which has no tokenizer of its own). */
export function isTokenSession(session: Session): session is TokenSession {
  const candidate = session as Partial<{ vocabularySize: unknown; contextSize: unknown }>;
  return typeof candidate.vocabularySize === "number" && typeof candidate.contextSize === "number";
}

/** Turns held-out text into token ids: the session's own tokenizer, or (MLX) that of the GGUF the folder was exported from. */
export type Tokenize = (text: string) => Int32Array | readonly number[];

/** Token chunks of the evaluation text (llama.cpp, MLX), or seeded generated inputs (ONNX). */
export async function buildProbeSet(session: Session, options: { shapes: ShapeOverrides; samples: number; seed: number; text?: string; tokenize?: Tokenize; signal?: AbortSignal }): Promise<ProbeSet> {
  const specs = session.describe().inputs;
  const inputs: NamedTensors[] = [];
  const tokenSession = isTokenSession(session);
  if (tokenSession) {
    if (options.text === undefined) {
      throw new EdgeforgeError("INVALID_CONFIG", `certifying a ${session.describe().runtime} model needs held-out text`, {
        hint: "set evaluation.text in the requirements file (or pass --text)",
      });
    }
    const tokenize = isLlamaSession(session) ? (text: string) => session.tokenize(text, { addBos: false }) : options.tokenize;
    if (!tokenize) throw new EdgeforgeError("INVALID_OPTION", `the ${session.describe().runtime} session has no tokenizer`, { hint: "certify it against the GGUF it was exported from (the report's input model)" });
    const tokens = Int32Array.from(tokenize(await readFile(options.text, { encoding: "utf8", signal: options.signal })));
    // The prompt length the report measured at (--shape tokens=N), so stress budgets from its p99 compare like with like.
    const length = Math.min(options.shapes.tokens?.[0] ?? 128, session.contextSize);
    for (let i = 0; i < options.samples && (i + 1) * length <= tokens.length; i++) inputs.push({ tokens: { dtype: "int32", dims: [length], data: tokens.slice(i * length, (i + 1) * length) } });
    if (inputs.length === 0) throw new EdgeforgeError("DATASET_INVALID", `${options.text} holds fewer than ${length} tokens`, { hint: "give a longer held-out text" });
  } else {
    for (let i = 0; i < options.samples; i++) inputs.push(generateInputs(specs, { seed: options.seed + i, shapes: options.shapes }));
  }
  const outputs: NamedTensors[] = [];
  for (const input of inputs) outputs.push(await session.run(input));
  return {
    kind: tokenSession ? "tokens" : "tensors",
    specs,
    inputs,
    outputs,
    source: tokenSession ? `${inputs.length} chunks of ${inputs[0]?.tokens?.dims[0] ?? 0} tokens from ${options.text}` : `${inputs.length} seeded generated input sets (seed ${options.seed})`,
    ...(tokenSession ? { vocabularySize: session.vocabularySize, contextSize: session.contextSize } : {}),
  };
}

export function floatValues(tensor: Tensor): Float32Array | Float64Array | undefined {
  return tensor.data instanceof Float32Array || tensor.data instanceof Float64Array ? tensor.data : undefined;
}

/** The first output of a run as float values (ONNX) or logits (GGUF). */
export function firstOutput(outputs: NamedTensors): { values: Float32Array | Float64Array; rowLength: number } {
  const tensor = Object.values(outputs)[0];
  const values = tensor ? floatValues(tensor) : undefined;
  if (!tensor || !values) throw new EdgeforgeError("UNSUPPORTED_FEATURE", "the model's first output is not floating point", { hint: "certify compares float outputs (scores, logits, embeddings)" });
  return { values, rowLength: tensor.dims[tensor.dims.length - 1] ?? values.length };
}

/** Mean negative log-likelihood (nats/token) of next-token predictions from [n × vocab] logits. */
export function meanNll(logits: ArrayLike<number>, tokens: ArrayLike<number>, vocabularySize: number): number {
  let total = 0;
  let count = 0;
  for (let position = 0; position + 1 < tokens.length; position++) {
    const offset = position * vocabularySize;
    let max = -Infinity;
    for (let v = 0; v < vocabularySize; v++) max = Math.max(max, logits[offset + v] as number);
    let sum = 0;
    for (let v = 0; v < vocabularySize; v++) sum += Math.exp((logits[offset + v] as number) - max);
    const target = tokens[position + 1] as number;
    total += -((logits[offset + target] as number) - max - Math.log(sum));
    count++;
  }
  return count === 0 ? 0 : total / count;
}

/** Largest absolute difference between two runs' first outputs. */
export function maxAbsDifference(a: NamedTensors, b: NamedTensors): number {
  const left = firstOutput(a).values;
  const right = firstOutput(b).values;
  if (left.length !== right.length) return Infinity;
  let max = 0;
  for (let i = 0; i < left.length; i++) max = Math.max(max, Math.abs((left[i] as number) - (right[i] as number)));
  return max;
}
