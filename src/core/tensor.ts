import type { Dtype } from "./dtypes.js";

export type TensorData =
  | Float32Array
  | Float64Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** A dense tensor: a typed-array view (often over file bytes) plus its element type and dims. float16 data is a Uint16Array of raw bits. */
export interface Tensor {
  dtype: Dtype;
  dims: number[];
  data: TensorData;
}

export type NamedTensors = Record<string, Tensor>;

/** A model input or output as declared: symbolic dimensions are strings, unknown ones null. */
export interface TensorSpec {
  name: string;
  dtype: Dtype;
  shape: (number | string | null)[];
}

export function elementCount(dims: readonly number[]): number {
  let count = 1;
  for (const dim of dims) count *= dim;
  return count;
}
