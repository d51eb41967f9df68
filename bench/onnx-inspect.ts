/**
 * How fast and memory-light `inspectOnnx` is on a 134 MB model, against reading the same file
 * into memory (the floor any protobuf decode pays), each measured in a fresh child process.
 * Also inspects the same model with its weights in external data (never read by inspect).
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import {
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProtoSchema,
  TypeProto_TensorSchema,
  ValueInfoProtoSchema,
} from "onnx-buf";
import { writeFileAtomic } from "../src/core/atomic-write.js";
import { inspectOnnx } from "../src/formats/onnx/inspect-onnx.js";
import { createTensorProto } from "../src/formats/onnx/tensor-data.js";
import { writeOnnxModel } from "../src/formats/onnx/write-onnx.js";

const layers = 8;
const width = 2048;
const repeats = 3;

function valueInfo(name: string, dims: (number | string)[]) {
  const dim = dims.map((d) =>
    create(TensorShapeProto_DimensionSchema, { value: typeof d === "number" ? { case: "dimValue", value: BigInt(d) } : { case: "dimParam", value: d } }),
  );
  const tensorType = create(TypeProto_TensorSchema, { elemType: 1, shape: create(TensorShapeProtoSchema, { dim }) });
  return create(ValueInfoProtoSchema, { name, type: create(TypeProtoSchema, { value: { case: "tensorType", value: tensorType } }) });
}

function buildModel() {
  const node = [];
  const initializer = [];
  let input = "x";
  for (let i = 0; i < layers; i++) {
    initializer.push(createTensorProto(`w${i}`, "float32", [width, width], new Float32Array(width * width).fill(i)));
    node.push(create(NodeProtoSchema, { opType: "MatMul", input: [input, `w${i}`], output: [`m${i}`], name: `MatMul_${i}` }));
    node.push(create(NodeProtoSchema, { opType: "Relu", input: [`m${i}`], output: [`r${i}`], name: `Relu_${i}` }));
    input = `r${i}`;
  }
  return create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: "", version: 17n })],
    graph: create(GraphProtoSchema, { name: "mlp", node, initializer, input: [valueInfo("x", ["batch", width])], output: [valueInfo(input, ["batch", width])] }),
  });
}

/** Child mode: run one task, print its time and the process's peak RSS as JSON. */
async function runChild(task: string, path: string): Promise<void> {
  if (task === "generate") {
    const model = buildModel();
    const written = await writeOnnxModel(model, join(path, "mlp.onnx"), { externalData: "never" });
    await writeOnnxModel(model, join(path, "mlp-external.onnx"), { externalData: "always" });
    console.log(JSON.stringify({ modelBytes: written.modelBytes }));
    return;
  }
  const start = process.hrtime.bigint();
  if (task === "read") await readFile(path);
  else await inspectOnnx(path, { shapes: { x: [1, width] } });
  const elapsedNs = Number(process.hrtime.bigint() - start);
  console.log(JSON.stringify({ elapsedNs, peakRssBytes: process.resourceUsage().maxRSS * 1024 }));
}

/** Run a child task; the parent stays small, since Linux children inherit the parent's peak RSS figure. */
function spawnChild<T>(task: string, path: string): T {
  const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, "--child", task, path], { encoding: "utf8" });
  if (child.status !== 0) throw new Error(`child ${task} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split("\n").at(-1)!) as T;
}

function measure(task: string, path: string): { elapsedNs: number; peakRssBytes: number } {
  const runs = Array.from({ length: repeats }, () => spawnChild<{ elapsedNs: number; peakRssBytes: number }>(task, path));
  return {
    elapsedNs: Math.min(...runs.map((r) => r.elapsedNs)),
    peakRssBytes: Math.min(...runs.map((r) => r.peakRssBytes)),
  };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "edgeforge-bench-onnx-"));
  try {
    const embedded = join(dir, "mlp.onnx");
    const external = join(dir, "mlp-external.onnx");
    const written = spawnChild<{ modelBytes: number }>("generate", dir);
    const baseline = measure("read", embedded);
    const inspect = measure("inspect", embedded);
    const inspectExternal = measure("inspect", external);
    const ms = (ns: number) => +(ns / 1e6).toFixed(1);
    const mib = (bytes: number) => +(bytes / 2 ** 20).toFixed(1);
    const result = {
      schemaVersion: 1,
      model: { layers, width, fileSizeBytes: written.modelBytes },
      repeats,
      readFile: { elapsedMs: ms(baseline.elapsedNs), peakRssBytes: baseline.peakRssBytes },
      inspectEmbedded: { elapsedMs: ms(inspect.elapsedNs), peakRssBytes: inspect.peakRssBytes },
      inspectExternal: { elapsedMs: ms(inspectExternal.elapsedNs), peakRssBytes: inspectExternal.peakRssBytes },
      ratios: {
        inspectTimeOverReadFile: +(inspect.elapsedNs / baseline.elapsedNs).toFixed(2),
        inspectPeakRssOverReadFile: +(inspect.peakRssBytes / baseline.peakRssBytes).toFixed(2),
        externalPeakRssOverReadFile: +(inspectExternal.peakRssBytes / baseline.peakRssBytes).toFixed(2),
      },
    };
    console.log(`model: ${layers} × MatMul ${width}×${width} float32, ${mib(written.modelBytes)} MiB`);
    console.log(`readFile (baseline)   ${ms(baseline.elapsedNs)} ms  peak RSS ${mib(baseline.peakRssBytes)} MiB`);
    console.log(`inspect (embedded)    ${ms(inspect.elapsedNs)} ms  peak RSS ${mib(inspect.peakRssBytes)} MiB  (×${result.ratios.inspectTimeOverReadFile} time, ×${result.ratios.inspectPeakRssOverReadFile} RSS)`);
    console.log(`inspect (external)    ${ms(inspectExternal.elapsedNs)} ms  peak RSS ${mib(inspectExternal.peakRssBytes)} MiB  (×${result.ratios.externalPeakRssOverReadFile} RSS)`);
    await writeFileAtomic(join("bench", "results", "onnx-inspect.json"), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--child") await runChild(process.argv[3]!, process.argv[4]!);
else await main();
