import { create } from "@bufbuild/protobuf";
import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { TensorProto_DataType as T, TypeProtoSchema, TypeProto_TensorSchema, ValueInfoProtoSchema, type ModelProto, type NodeProto, type TensorProto } from "onnx-buf";
import { EdgeforgeError } from "../../core/errors.js";
import type { Session } from "../../core/session.js";
import type { NamedTensors, TensorSpec } from "../../core/tensor.js";
import { bindInputs } from "../../datasets/bind-inputs.js";
import type { Dataset } from "../../datasets/dataset.js";
import { writeOnnxModel } from "../../formats/onnx/write-onnx.js";
import type { PassContext } from "../pass.js";

/** A float32 graph output of unknown shape. */
export function floatOutput(name: string) {
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, { value: { case: "tensorType", value: create(TypeProto_TensorSchema, { elemType: T.FLOAT }) } }),
  });
}

/** Refuse samples whose tensors cannot feed the model, before the runtime gives a less helpful message. */
export function checkSampleFits(inputs: NamedTensors, specs: readonly TensorSpec[], sampleId: string, source: string): void {
  for (const spec of specs) {
    const tensor = inputs[spec.name];
    if (!tensor) continue;
    const rankOk = tensor.dims.length === spec.shape.length;
    const dimsOk = rankOk && spec.shape.every((dim, axis) => typeof dim !== "number" || dim === tensor.dims[axis]);
    if (!dimsOk || tensor.dtype !== spec.dtype) {
      throw new EdgeforgeError("DATASET_INVALID", `sample ${sampleId} of ${source} gives input "${spec.name}" as ${tensor.dtype}[${tensor.dims.join(",")}], but the model expects ${spec.dtype}[${spec.shape.map((d) => d ?? "?").join(",")}]`, {
        hint: "check the preprocessing spec (width, height, layout, dtype) or the .npy shapes against the model's inputs (edgeforge inspect shows them)",
        details: { sample: sampleId, input: spec.name, dims: tensor.dims, dtype: tensor.dtype, expected: spec.shape, expectedDtype: spec.dtype },
      });
    }
  }
}

export interface CaptureRun {
  samples: number;
}

/**
 * Nodes (and the constants they read) appended to a graph for a capture: they reduce activations
 * inside the runtime, so a run returns a few scalars instead of every activation's values.
 */
export interface AddedNodes {
  nodes: readonly NodeProto[];
  initializers: readonly TensorProto[];
}

/**
 * Run `dataset` through `model` with the main-graph values `names` exposed as extra outputs (the
 * way onnxruntime's calibrators do it), handing each sample's values to `onSample`. The exposed
 * copy is written to the pass's workDir and removed afterwards; `model` is left as it was.
 */
export async function captureActivations(
  model: ModelProto,
  names: readonly string[],
  dataset: Dataset | undefined,
  context: PassContext,
  onSample: (values: NamedTensors, inputs: NamedTensors) => void,
  label = "calibrate",
  added?: AddedNodes,
): Promise<CaptureRun> {
  requireInference(dataset, context, label);
  const openSession = context.openSession!;
  let exposedPath: string | undefined;
  let session: Session | undefined;
  try {
    exposedPath = await writeExposedModel(model, names, context, "exposed", added);
    session = await openSession(exposedPath, context.signal);
    const specs = session.describe().inputs;
    context.progress?.start(label, dataset.size);
    let count = 0;
    for await (const sample of dataset.samples(context.signal)) {
      const inputs = bindInputs(sample.inputs, specs, { seed: 1 });
      checkSampleFits(inputs, specs, sample.id, dataset.source);
      let values: NamedTensors;
      try {
        values = await session.run(inputs, { outputNames: [...names], signal: context.signal });
      } catch (error) {
        if (EdgeforgeError.isInstance(error) && error.code !== "RUNTIME_FAILED") throw error;
        throw new EdgeforgeError("DATASET_INVALID", `the model could not run sample ${sample.id} of ${dataset.source}: ${(error as Error).message}`, {
          hint: "check that the samples have the shapes and types the model expects",
          details: { sample: sample.id },
          cause: error,
        });
      }
      onSample(values, inputs);
      count++;
      context.progress?.update(count, sample.id);
    }
    context.progress?.finish(`${count} samples`);
    if (count === 0) {
      throw new EdgeforgeError("DATASET_INVALID", `the calibration data ${dataset.source} yielded no samples`, {
        hint: "check the folder or file holds samples",
        details: { source: dataset.source },
      });
    }
    return { samples: count };
  } finally {
    await session?.close();
    if (exposedPath) await removeModelFiles(exposedPath);
  }
}

/**
 * Write `model` to the pass's workDir with the main-graph values `names` added as (float32) outputs,
 * after appending `added`'s nodes and constants; `model` is left as it was.
 */
export async function writeExposedModel(model: ModelProto, names: readonly string[], context: PassContext, label = "exposed", added?: AddedNodes): Promise<string> {
  const graph = model.graph!;
  const existing = new Set(graph.output.map((o) => o.name));
  const outputs = [...new Set(names)].filter((name) => !existing.has(name));
  const counts = { output: graph.output.length, node: graph.node.length, initializer: graph.initializer.length };
  await mkdir(context.workDir, { recursive: true });
  const path = join(context.workDir, `${label}-${randomBytes(6).toString("hex")}.onnx`);
  graph.node.push(...(added?.nodes ?? []));
  graph.initializer.push(...(added?.initializers ?? []));
  graph.output.push(...outputs.map(floatOutput));
  try {
    await writeOnnxModel(model, path, { signal: context.signal, scratch: true });
  } finally {
    graph.output.splice(counts.output);
    graph.node.splice(counts.node);
    graph.initializer.splice(counts.initializer);
  }
  return path;
}

export async function removeModelFiles(path: string): Promise<void> {
  await rm(path, { force: true });
  await rm(`${path}.data`, { force: true });
}

/** Refuse a missing or empty dataset, and a context without a runtime, before any work. */
export function requireInference(dataset: Dataset | undefined, context: PassContext, purpose: string): asserts dataset is Dataset {
  if (!dataset) {
    throw new EdgeforgeError("DATASET_INVALID", `${purpose} needs data and none was given`, {
      hint: "pass --calibration DATA (a folder of images with a preprocessing spec, a folder of .npy tensors, or a .json/.jsonl file)",
    });
  }
  if (dataset.size === 0) {
    throw new EdgeforgeError("DATASET_INVALID", `the data ${dataset.source} for ${purpose} is empty`, {
      hint: "put at least one sample in it (a few dozen are typical)",
      details: { source: dataset.source },
    });
  }
  if (!context.openSession) {
    throw new EdgeforgeError("RUNTIME_UNAVAILABLE", `${purpose} needs a runtime session and the pass was given none`, {
      hint: "call the pass through edgeforge's quantize API, which supplies onnxruntime",
    });
  }
}
