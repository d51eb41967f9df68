/**
 * bench:inspect — `inspect` on 100 MB+ models must read only what it needs. For each format we build a
 * model over 100 MB, then time (a) reading the file once into memory and (b) inspect, interleaved,
 * and report inspect time and bytes read (from /proc/self/io) as ratios to the single read.
 */
import { create } from "@bufbuild/protobuf";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { GraphProtoSchema, ModelProtoSchema, NodeProtoSchema, OperatorSetIdProtoSchema } from "onnx-buf";
import { inspect } from "../src/api/index.js";
import { writeFileAtomic } from "../src/core/atomic-write.js";
import { describeSamples } from "../src/stats/describe-samples.js";
import { readGgufHeader } from "../src/formats/gguf/read-gguf.js";
import { readGgufTensorData } from "../src/formats/gguf/read-gguf-tensor-data.js";
import { writeGguf } from "../src/formats/gguf/write-gguf.js";
import { createTensorProto } from "../src/formats/onnx/tensor-data.js";
import { writeOnnxModel } from "../src/formats/onnx/write-onnx.js";
import { sharedModels } from "../test/fixtures/shared-models.js";

const repetitions = 5;
const layerCount = 8;
const hidden = 2048; // 8 × 2048² × 4 B ≈ 134 MB of weights
const sourceGguf = sharedModels.tinyLlamaF16;

async function readBytesSoFar(): Promise<number> {
  const io = await readFile("/proc/self/io", "utf8");
  return Number(/^rchar:\s*(\d+)/m.exec(io)?.[1] ?? Number.NaN);
}

function randomWeights(count: number, seed: number): Float32Array {
  const values = new Float32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = (state / 2 ** 32 - 0.5) * 0.02;
  }
  return values;
}

async function buildOnnx(dir: string, externalData: boolean): Promise<string> {
  const nodes = [];
  const initializers = [];
  for (let layer = 0; layer < layerCount; layer++) {
    const input = layer === 0 ? "x" : `h${layer}`;
    nodes.push(create(NodeProtoSchema, { opType: "MatMul", input: [input, `w${layer}`], output: [`h${layer + 1}`], name: `mm${layer}` }));
    initializers.push(createTensorProto(`w${layer}`, "float32", [hidden, hidden], randomWeights(hidden * hidden, layer + 1)));
  }
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    producerName: "edgeforge-bench",
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: "", version: 17n })],
    graph: create(GraphProtoSchema, { name: "mlp", node: nodes, initializer: initializers }),
  });
  const path = join(dir, externalData ? "mlp_external.onnx" : "mlp.onnx");
  await writeOnnxModel(model, path, { externalData: externalData ? "always" : "never" });
  return path;
}

async function buildGguf(dir: string): Promise<string> {
  const header = await readGgufHeader(sourceGguf);
  const tensors = await Promise.all(
    header.tensors.map(async (tensor) => ({ name: tensor.name, dims: tensor.dims, type: tensor.type, data: await readGgufTensorData(sourceGguf, header, tensor.name) })),
  );
  for (let layer = 0; layer < layerCount; layer++) {
    const weights = randomWeights(hidden * hidden, layer + 11);
    tensors.push({ name: `bench.pad.${layer}.weight`, dims: [hidden, hidden], type: "F32", data: new Uint8Array(weights.buffer) });
  }
  const path = join(dir, "padded-llama.gguf");
  await writeGguf(path, { metadata: header.metadata, tensors, alignment: header.alignment });
  return path;
}

async function buildSafetensors(dir: string): Promise<string> {
  const tensorBytes = hidden * hidden * 4;
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  for (let layer = 0; layer < layerCount; layer++) {
    header[`model.layers.${layer}.mlp.weight`] = { dtype: "F32", shape: [hidden, hidden], data_offsets: [layer * tensorBytes, (layer + 1) * tensorBytes] };
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const data = new Uint8Array(layerCount * tensorBytes);
  for (let layer = 0; layer < layerCount; layer++) data.set(new Uint8Array(randomWeights(hidden * hidden, layer + 21).buffer), layer * tensorBytes);
  const path = join(dir, "model.safetensors");
  await writeFileAtomic(path, Buffer.concat([length, json, data]));
  return path;
}

interface Timed {
  ms: number;
  bytesRead: number;
}

async function timed(action: () => Promise<unknown>): Promise<Timed> {
  const bytesBefore = await readBytesSoFar();
  const start = process.hrtime.bigint();
  await action();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { ms, bytesRead: (await readBytesSoFar()) - bytesBefore };
}

/** `files`: every file of the artifact (model + external data); "read once" reads them all. */
async function measure(label: string, files: string[], fileSizeBytes: number) {
  const path = files[0] as string;
  const readAll = async (): Promise<void> => {
    for (const file of files) await readFile(file);
  };
  const readOnce: Timed[] = [];
  const inspected: Timed[] = [];
  await readAll(); // warm the page cache so both sides read from memory
  await inspect(path);
  for (let rep = 0; rep < repetitions; rep++) {
    // Alternate which side goes first so neither always benefits from the other's cache state.
    const pair = rep % 2 === 0 ? [readOnce, inspected] : [inspected, readOnce];
    for (const samples of pair) {
      samples.push(await timed(() => (samples === readOnce ? readAll() : inspect(path))));
    }
  }
  const readMs = describeSamples(readOnce.map((s) => s.ms));
  const inspectMs = describeSamples(inspected.map((s) => s.ms));
  const inspectBytes = Math.max(...inspected.map((s) => s.bytesRead));
  return {
    model: label,
    fileSizeBytes,
    readOnceP50Ms: readMs.p50,
    inspectP50Ms: inspectMs.p50,
    inspectTimeRatio: inspectMs.p50 / readMs.p50,
    inspectBytesRead: inspectBytes,
    inspectBytesReadRatio: inspectBytes / fileSizeBytes,
  };
}

const dir = await mkdtemp(join(tmpdir(), "edgeforge-bench-inspect-"));
try {
  console.error(`building 100 MB+ models in ${dir} …`);
  const models: Array<[string, string]> = [
    ["onnx (weights inside the protobuf)", await buildOnnx(dir, false)],
    ["onnx (external data)", await buildOnnx(dir, true)],
    ["gguf", await buildGguf(dir)],
    ["safetensors", await buildSafetensors(dir)],
  ];
  const results = [];
  for (const [label, path] of models) {
    const files = label.includes("external") ? [path, `${path}.data`] : [path];
    let sizeBytes = 0;
    for (const file of files) sizeBytes += (await stat(file)).size;
    results.push(await measure(label, files, sizeBytes));
  }
  console.log("| model | size | read once p50 | inspect p50 | inspect / read | bytes read by inspect |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const r of results) {
    console.log(
      `| ${r.model} | ${(r.fileSizeBytes / 1e6).toFixed(1)} MB | ${r.readOnceP50Ms.toFixed(1)} ms | ${r.inspectP50Ms.toFixed(1)} ms | ${r.inspectTimeRatio.toFixed(3)}× | ${(r.inspectBytesReadRatio * 100).toFixed(2)}% of the file |`,
    );
  }
  const record = {
    schemaVersion: 1,
    benchmark: "inspect",
    method: `p50 of ${repetitions} interleaved repetitions after one warm-up each; files in the page cache; bytes read from /proc/self/io rchar (includes small reads of config files)`,
    machine: { cpu: cpus()[0]?.model ?? "unknown", logicalCpus: cpus().length, node: process.version },
    timestamp: new Date().toISOString(),
    results,
  };
  await writeFile("bench/results/inspect.json", `${JSON.stringify(record, null, 2)}\n`);
  console.error("wrote bench/results/inspect.json");
} finally {
  await rm(dir, { recursive: true, force: true });
}
