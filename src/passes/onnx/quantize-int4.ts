import { TensorProto_DataType as T, type ModelProto, type NodeProto } from "onnx-buf";
import { z } from "zod";
import type { Artifact } from "../../core/artifact.js";
import { EdgeforgeError } from "../../core/errors.js";
import { attributeInt } from "../../formats/onnx/node-attributes.js";
import type { BlockwiseInt4Result } from "../../kernels/blockwise-int4.js";
import { Int4WorkerPool, isWorthParallel } from "../../kernels/parallel-int4.js";
import { quantizeInt4 } from "../../kernels/blockwise-int4.js";
import type { Pass, PassContext, PassLog, PassResult } from "../pass.js";
import { findCandidateNodes, SkipLog, type CandidateNode } from "./candidate-nodes.js";
import { excludeNodesOption, externalDataOption, suffixedOutputName } from "./common-options.js";
import { readFloat32, readFloat32Unkept, tensorDims } from "./float-tensors.js";
import { collectGptqHessians } from "./gptq-hessians.js";
import { quantizeInt4Gptq } from "../../kernels/gptq.js";
import { ConstantIndex, ensureOpsetImport, intAttribute, makeNode, NameAllocator, removeUnusedConstants, type ConstantRef } from "./graph-edit.js";
import { InitializerStore, type NewTensor } from "./initializer-store.js";
import { addCount, emptyLog, runStreamedRewrite, type PassInputFile } from "./onnx-pass-io.js";
import { replaceNode } from "./quantize-int8-dynamic.js";

export const quantizeInt4OptionsSchema = z.object({
  blockSize: z.union([z.literal(16), z.literal(32), z.literal(64), z.literal(128)]).default(32).describe("weights per scale along K (MatMulNBits block_size)"),
  symmetric: z.boolean().default(true).describe("symmetric blocks (zero point 8, no zero-point tensor); asymmetric stores packed 4-bit zero points"),
  method: z
    .enum(["rtn", "hqq", "gptq"])
    .default("rtn")
    .describe("rtn: round to nearest; hqq: half-quadratic zero-point optimisation (data-free, float zero points); gptq: error-compensating rounding using calibration data"),
  accuracyLevel: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3), z.literal(4)]).default(0).describe("MatMulNBits accuracy_level: 0 unset, 1 fp32, 2 fp16, 3 bf16, 4 int8 compute of A (fastest on CPU)"),
  gptqDamping: z.number().positive().max(1).default(0.01).describe("gptq: fraction of the mean Hessian diagonal added for stability"),
  threads: z.number().int().min(1).optional().describe("threads for large weights (worker threads); default: all cores"),
  excludeNodes: excludeNodesOption,
  externalData: externalDataOption,
});

export type QuantizeInt4Options = z.output<typeof quantizeInt4OptionsSchema>;

/** The MatMulNBits initializers for one quantized weight. */
function int4Tensors(q: BlockwiseInt4Result): NewTensor[] {
  const { n, blockCount, blockSize } = q;
  const tensors: NewTensor[] = [
    { suffix: "_q4", dtype: "uint8", dims: [n, blockCount, blockSize / 2], data: q.packed },
    { suffix: "_scales", dtype: "float32", dims: [n, blockCount], data: q.scales },
  ];
  if (q.zeroPoints) tensors.push({ suffix: "_zero_points", dtype: "uint8", dims: [n, Math.ceil(blockCount / 2)], data: q.zeroPoints });
  if (q.floatZeroPoints) tensors.push({ suffix: "_zero_points", dtype: "float32", dims: [n, blockCount], data: q.floatZeroPoints });
  return tensors;
}

interface Int4Job {
  candidate: CandidateNode;
  ref: ConstantRef;
  transposed: boolean;
  bias?: string;
}

class Int4Quantizer {
  readonly log: PassLog = emptyLog();
  readonly skips = new SkipLog();
  readonly names: NameAllocator;
  readonly store: InitializerStore;
  private readonly constants: ConstantIndex;

  constructor(readonly model: ModelProto, private readonly options: QuantizeInt4Options) {
    this.names = new NameAllocator(model);
    this.store = new InitializerStore(this.names);
    this.constants = new ConstantIndex(model);
  }

  /** Which MatMul/Gemm nodes can become MatMulNBits, and their weights; others are logged as skipped. */
  plan(candidate: CandidateNode): Int4Job | string {
    const { node, graph } = candidate;
    const ref = node.input[1] ? this.constants.resolve(graph, node.input[1]) : undefined;
    if (!ref) return "weight is not a constant";
    if (ref.tensor.dataType !== T.FLOAT) return "weight is not float32";
    if (ref.tensor.dims.length !== 2) return "weight is not 2-D";
    if (node.opType === "MatMul") return { candidate, ref, transposed: false };
    if (attributeInt(node, "transA", 0) !== 0 || node.attribute.some((a) => a.name === "alpha" && a.f !== 1)) return "Gemm with transA or alpha ≠ 1";
    const transposed = attributeInt(node, "transB", 0) === 1;
    const n = Number(ref.tensor.dims[transposed ? 0 : 1]);
    let bias: string | undefined;
    if (node.input[2]) {
      const biasRef = this.constants.resolve(graph, node.input[2]);
      if (!biasRef || biasRef.tensor.dataType !== T.FLOAT || node.attribute.some((a) => a.name === "beta" && a.f !== 1)) return "Gemm bias is not a constant float32 with beta 1";
      const values = readFloat32(biasRef.tensor);
      if (values.length !== n) return "Gemm bias is not one value per output";
      bias = biasRef.tensor.dims.length === 1 ? node.input[2] : this.store.add(graph, biasRef.tensor.name, { suffix: "_vector", dtype: "float32", dims: [n], data: values });
    }
    return { candidate, ref, transposed, ...(bias ? { bias } : {}) };
  }

  /** B's shape as [K, N] (Gemm transB weights are stored [N, K]). */
  shapeKN(job: Int4Job): { k: number; n: number } {
    const [rows, cols] = tensorDims(job.ref.tensor) as [number, number];
    return job.transposed ? { k: cols, n: rows } : { k: rows, n: cols };
  }

  /** B as [K, N] float32, read for this weight only: a streamed weight stays out of the model's memory once quantized. */
  weightKN(job: Int4Job): Float32Array {
    const data = readFloat32Unkept(job.ref.tensor);
    if (!job.transposed) return data;
    const [rows, cols] = tensorDims(job.ref.tensor) as [number, number];
    const weight = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) weight[c * rows + r] = data[r * cols + c]!;
    return weight;
  }

  node(job: Int4Job, names: string[], k: number, n: number): NodeProto {
    const [b, scales, zeroPoints] = names;
    const inputs = [job.candidate.node.input[0]!, b!, scales!];
    if (zeroPoints || job.bias) inputs.push(zeroPoints ?? "");
    if (job.bias) inputs.push("", job.bias);
    return makeNode({
      opType: "MatMulNBits",
      domain: "com.microsoft",
      name: this.names.allocate(`${job.candidate.id}_q4`),
      inputs,
      outputs: [job.candidate.node.output[0]!],
      attributes: [
        intAttribute("K", k),
        intAttribute("N", n),
        intAttribute("bits", 4),
        intAttribute("block_size", this.options.blockSize),
        intAttribute("accuracy_level", this.options.accuracyLevel),
      ],
    });
  }
}

/** Weight-only blockwise 4-bit MatMul → com.microsoft.MatMulNBits. */
export const quantizeInt4Pass: Pass<QuantizeInt4Options> = {
  id: "onnx.quantize.int4",
  version: "2",
  description: "weight-only blockwise 4-bit MatMul/Gemm → com.microsoft.MatMulNBits (round-to-nearest, HQQ or GPTQ)",
  inputFormat: "onnx",
  outputFormat: "onnx",
  optionsSchema: quantizeInt4OptionsSchema,
  searchSpace: { blockSize: [32, 64, 128], symmetric: [true, false], method: ["rtn", "hqq"] },
  defaultOutputName: (inputPath) => suffixedOutputName(inputPath, "_q4"),
  readsData: (options) => (options.method === "gptq" ? ["calibration"] : []),
  run(input: Artifact, outputPath: string, options: QuantizeInt4Options, context: PassContext): Promise<PassResult> {
    return runStreamedRewrite(quantizeInt4Pass, input, outputPath, options, context, (inputFile) => rewriteInt4(inputFile, options, context));
  },
};

/**
 * The int4 rewrite of a pass input, in place. A weight read streamed (readPassInput's `streamWeights`) is
 * read when it is quantized and not kept: the model holds the 4-bit results, never the float32 weights
 * whole; the model and its bytes are the same as from weights read into memory.
 */
export async function rewriteInt4(inputFile: PassInputFile, options: QuantizeInt4Options, context: PassContext): Promise<PassLog> {
  const model = inputFile.model;
  const quantizer = new Int4Quantizer(model, options);
  const jobs: Int4Job[] = [];
  for (const candidate of findCandidateNodes(model, { opTypes: ["MatMul", "Gemm"], excludeNodes: options.excludeNodes }, quantizer.skips)) {
    const job = quantizer.plan(candidate);
    if (typeof job === "string") quantizer.skips.skip(candidate.id, job);
    else jobs.push(job);
  }
  if (jobs.length === 0) {
    throw new EdgeforgeError("NOTHING_TO_DO", `${inputFile.path} has no MatMul/Gemm with a constant 2-D float32 weight for 4-bit quantization`, {
      hint: "int4 is weight-only for matrix multiplications; for convolutional models use int8-static or fp16",
      details: { path: inputFile.path, skipped: quantizer.skips.skipped.slice(0, 20) },
    });
  }
  const hessians = options.method === "gptq" ? await collectGptqHessians(inputFile, jobs.map((j) => j.candidate), context) : undefined;
  if (hessians) quantizer.log.notes.push(`gptq: Hessians from ${hessians.sampleCount} calibration samples`);
  const kernelMethod = options.method === "hqq" ? "hqq" : "rtn";
  const parallel = options.threads !== 1 && jobs.some((job) => isWorthParallel(Number(job.ref.tensor.dims[0]) * Number(job.ref.tensor.dims[1]), kernelMethod));
  const pool = parallel ? await Int4WorkerPool.start(options.threads) : undefined;
  try {
    context.progress?.start("quantize int4", jobs.length);
    for (const [index, job] of jobs.entries()) {
      context.signal?.throwIfAborted();
      const hessian = hessians?.byInput.get(job.candidate.node.input[0]!);
      const variant = `q4|${options.blockSize}|${options.symmetric}|${options.method}|${job.transposed}`;
      // GPTQ depends on the activations a weight meets, so a weight shared by several MatMuls is quantized per input.
      const cacheName = hessian ? `${job.ref.tensor.name}@${job.candidate.node.input[0]}` : job.ref.tensor.name;
      const { k, n } = quantizer.shapeKN(job);
      const names = await addOnceAsync(quantizer.store, job, cacheName, variant, async () => {
        const weight = quantizer.weightKN(job);
        const kernelOptions = { blockSize: options.blockSize, symmetric: options.symmetric, method: kernelMethod } as const;
        const q = hessian
          ? quantizeInt4Gptq(weight, k, n, hessian, { ...kernelOptions, damping: options.gptqDamping })
          : pool
            ? await pool.quantize(weight, k, n, kernelOptions)
            : quantizeInt4(weight, k, n, kernelOptions);
        return { tensors: int4Tensors(q), floatBytes: weight.byteLength };
      });
      replaceNode(job.candidate.graph, job.candidate.node, [quantizer.node(job, names, k, n)]);
      context.progress?.update(index + 1, job.candidate.id);
    }
    context.progress?.finish(`${jobs.length} nodes quantized`);
  } finally {
    await pool?.close();
  }
  ensureOpsetImport(model, "com.microsoft", 1);
  removeUnusedConstants(model);
  const log = quantizer.log;
  log.notes.unshift(...inputFile.notes);
  addCount(log, "nodesQuantized", jobs.length);
  addCount(log, "weightBytesBefore", quantizer.store.floatBytes);
  addCount(log, "weightBytesAfter", quantizer.store.quantizedBytes);
  quantizer.skips.writeTo(log);
  return log;
}

/** InitializerStore.addOnce for a producer that awaits (worker threads). */
async function addOnceAsync(
  store: InitializerStore,
  job: Int4Job,
  cacheName: string,
  variant: string,
  make: () => Promise<{ tensors: NewTensor[]; floatBytes: number }>,
): Promise<string[]> {
  const existing = store.lookup(job.ref.graph, cacheName, variant);
  if (existing) return existing;
  const made = await make();
  return store.addOnce(job.ref.graph, cacheName, variant, () => made);
}
