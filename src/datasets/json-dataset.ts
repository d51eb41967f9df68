import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { createInterface } from "node:readline";
import { z } from "zod";
import { dtypeCatalog, type Dtype } from "../core/dtypes.js";
import { EdgeforgeError, fileError } from "../core/errors.js";
import { hashFileSha256, hashSha256, stableStringify } from "../core/hashing.js";
import { elementCount, type NamedTensors, type Tensor, type TensorData } from "../core/tensor.js";
import type { Dataset, DatasetSample } from "./dataset.js";
import { float32ToFloat16Bits } from "../kernels/float16.js";

type NestedNumbers = number | NestedNumbers[];
const nestedNumbers: z.ZodType<NestedNumbers> = z.lazy(() => z.union([z.number(), z.array(nestedNumbers)]));

const tensorJsonSchema = z.union([
  z
    .object({
      dtype: z.string(),
      dims: z.array(z.number().int().nonnegative()),
      data: z.array(z.union([z.number(), z.string(), z.boolean()])),
    })
    .strict(),
  nestedNumbers,
]);

const recordSchema = z
  .object({
    id: z.string().optional(),
    inputs: z.record(z.string(), tensorJsonSchema),
    label: z.union([z.number().int(), z.string()]).optional(),
  })
  .strict();

type TensorJson = z.infer<typeof tensorJsonSchema>;

const arrayMakers: Partial<Record<Dtype, (length: number) => TensorData>> = {
  float32: (n) => new Float32Array(n),
  float64: (n) => new Float64Array(n),
  float16: (n) => new Uint16Array(n),
  int8: (n) => new Int8Array(n),
  uint8: (n) => new Uint8Array(n),
  bool: (n) => new Uint8Array(n),
  int16: (n) => new Int16Array(n),
  uint16: (n) => new Uint16Array(n),
  int32: (n) => new Int32Array(n),
  uint32: (n) => new Uint32Array(n),
  int64: (n) => new BigInt64Array(n),
  uint64: (n) => new BigUint64Array(n),
};

function flatten(value: NestedNumbers, dims: number[], depth: number, out: number[], where: string): void {
  if (typeof value === "number") {
    if (depth !== dims.length) throw new Error(`${where}: ragged nested array`);
    out.push(value);
    return;
  }
  if (depth === dims.length) dims.push(value.length);
  else if (dims[depth] !== value.length) throw new Error(`${where}: ragged nested array`);
  for (const item of value) flatten(item, dims, depth + 1, out, where);
}

/** JSON tensor → Tensor: `{dtype, dims, data}`, or a nested number array (float32, dims from nesting). */
export function tensorFromJson(value: TensorJson, where: string): Tensor {
  if (typeof value === "number" || Array.isArray(value)) {
    const dims: number[] = [];
    const values: number[] = [];
    flatten(value, dims, 0, values, where);
    return { dtype: "float32", dims, data: Float32Array.from(values) };
  }
  const dtype = value.dtype as Dtype;
  const make = Object.hasOwn(dtypeCatalog, dtype) ? arrayMakers[dtype] : undefined;
  if (!make) throw new Error(`${where}: unsupported dtype "${value.dtype}"`);
  if (elementCount(value.dims) !== value.data.length) {
    throw new Error(`${where}: dims ${JSON.stringify(value.dims)} hold ${elementCount(value.dims)} values but data has ${value.data.length}`);
  }
  const data = make(value.data.length);
  value.data.forEach((item, index) => {
    if (data instanceof BigInt64Array || data instanceof BigUint64Array) data[index] = BigInt(item);
    else if (dtype === "float16") data[index] = float32ToFloat16Bits(Number(item));
    else data[index] = Number(item);
  });
  return { dtype, dims: [...value.dims], data };
}

function parseRecord(raw: unknown, where: string): DatasetSample {
  const parsed = recordSchema.safeParse(raw);
  if (!parsed.success) {
    throw new EdgeforgeError("DATASET_INVALID", `${where}: ${z.prettifyError(parsed.error)}`, {
      hint: 'each record is {"inputs": {"name": {"dtype": "float32", "dims": [1, 4], "data": [...]}}, "label": 0}',
      details: { where },
    });
  }
  const inputs: NamedTensors = {};
  try {
    for (const [name, value] of Object.entries(parsed.data.inputs)) inputs[name] = tensorFromJson(value, `${where} input "${name}"`);
  } catch (error) {
    throw new EdgeforgeError("DATASET_INVALID", (error as Error).message, {
      hint: "dims must multiply to the number of data values; nested arrays must be rectangular",
      details: { where },
    });
  }
  return { id: parsed.data.id ?? where, inputs, ...(parsed.data.label === undefined ? {} : { label: parsed.data.label }) };
}

/** A `.json` file (an array of records, or {"samples": [...]}) or a `.jsonl` file (one record per line). */
export async function openJsonDataset(path: string, options: { limit?: number; signal?: AbortSignal } = {}): Promise<Dataset> {
  const lines = path.toLowerCase().endsWith(".jsonl");
  const rawRecords: unknown[] = [];
  const limit = options.limit ?? Infinity;
  try {
    await stat(path);
    if (lines) {
      const reader = createInterface({ input: createReadStream(path, { encoding: "utf8", signal: options.signal }), crlfDelay: Infinity });
      let lineNumber = 0;
      for await (const line of reader) {
        lineNumber += 1;
        if (line.trim().length === 0) continue;
        if (rawRecords.length >= limit) break;
        try {
          rawRecords.push(JSON.parse(line));
        } catch (error) {
          throw new EdgeforgeError("DATASET_INVALID", `${path}:${lineNumber} is not valid JSON: ${(error as Error).message}`, {
            hint: "each line of a .jsonl file is one JSON record",
            details: { path, line: lineNumber },
          });
        }
      }
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(await readFile(path, { encoding: "utf8", signal: options.signal }));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== undefined) throw error;
        throw new EdgeforgeError("DATASET_INVALID", `${path} is not valid JSON: ${(error as Error).message}`, {
          hint: "fix the JSON syntax",
          details: { path },
        });
      }
      const list = Array.isArray(parsed) ? parsed : (parsed as { samples?: unknown })?.samples;
      if (!Array.isArray(list)) {
        throw new EdgeforgeError("DATASET_INVALID", `${path} is neither an array of records nor {"samples": [...]}`, {
          hint: "wrap the records in a JSON array",
          details: { path },
        });
      }
      rawRecords.push(...list.slice(0, limit));
    }
  } catch (error) {
    throw fileError(error, path, "read");
  }
  const samples = rawRecords.map((raw, index) => parseRecord(raw, `${path} record ${index + 1}`));
  if (samples.length === 0) {
    throw new EdgeforgeError("DATASET_INVALID", `${path} has no records`, { hint: "add at least one record", details: { path } });
  }
  let fingerprint: Promise<string> | undefined;
  return {
    source: path,
    size: samples.length,
    async *samples(signal?: AbortSignal) {
      for (const sample of samples) {
        signal?.throwIfAborted();
        yield sample;
      }
    },
    fingerprint(signal?: AbortSignal) {
      // The file's bytes and the record limit decide the samples. An aborted or failed hash is not kept.
      fingerprint ??= hashFileSha256(path, signal).then(
        (sha256) => hashSha256(stableStringify({ kind: "json", sha256, records: samples.length })),
        (error: unknown) => {
          fingerprint = undefined;
          throw error;
        },
      );
      return fingerprint;
    },
  };
}
