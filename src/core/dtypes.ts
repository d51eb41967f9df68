/** Element types shared across formats, with their storage cost. Names follow numpy/ONNX spelling. */
export const dtypeCatalog = {
  float32: { bits: 32, float: true },
  float16: { bits: 16, float: true },
  bfloat16: { bits: 16, float: true },
  float64: { bits: 64, float: true },
  float8e4m3fn: { bits: 8, float: true },
  float8e4m3fnuz: { bits: 8, float: true },
  float8e5m2: { bits: 8, float: true },
  float8e5m2fnuz: { bits: 8, float: true },
  float4e2m1: { bits: 4, float: true },
  int8: { bits: 8, float: false },
  uint8: { bits: 8, float: false },
  int16: { bits: 16, float: false },
  uint16: { bits: 16, float: false },
  int32: { bits: 32, float: false },
  uint32: { bits: 32, float: false },
  int64: { bits: 64, float: false },
  uint64: { bits: 64, float: false },
  int4: { bits: 4, float: false },
  uint4: { bits: 4, float: false },
  bool: { bits: 8, float: false },
  string: { bits: 0, float: false },
  complex64: { bits: 64, float: true },
  complex128: { bits: 128, float: true },
} as const;

export type Dtype = keyof typeof dtypeCatalog;

export function dtypeBits(dtype: Dtype): number {
  return dtypeCatalog[dtype].bits;
}
