/**
 * GGUF metadata values keep their stored type, so a uint32 stays a uint32 (not an int32 or a
 * float) when a file is read and written back. Ids from gguf.h `enum gguf_type`.
 */
export const ggufValueTypeIds = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

export type GgufValueType = keyof typeof ggufValueTypeIds;
export type GgufNumberType = "uint8" | "int8" | "uint16" | "int16" | "uint32" | "int32" | "float32" | "float64";
export type GgufBigIntType = "uint64" | "int64";

const valueTypesById = new Map<number, GgufValueType>(
  Object.entries(ggufValueTypeIds).map(([name, id]) => [id, name as GgufValueType]),
);

export function ggufValueTypeById(id: number): GgufValueType | undefined {
  return valueTypesById.get(id);
}

/** Bytes of one stored scalar; strings and arrays have variable size. */
export const ggufScalarBytes: Readonly<Record<Exclude<GgufValueType, "string" | "array">, number>> = Object.freeze({
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
  bool: 1,
  uint64: 8,
  int64: 8,
  float64: 8,
});

/** Numeric arrays are typed arrays (a 150k-entry score table is one allocation, not 150k numbers in a list). */
export type GgufArrayItems =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigUint64Array
  | BigInt64Array
  | boolean[]
  | string[]
  | GgufArrayValue[];

export interface GgufArrayValue {
  type: "array";
  itemType: GgufValueType;
  items: GgufArrayItems;
}

export type GgufValue =
  | { type: GgufNumberType; value: number }
  | { type: GgufBigIntType; value: bigint }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | GgufArrayValue;

/** Key → value in file order (a Map keeps insertion order, which the writer preserves). */
export type GgufMetadata = Map<string, GgufValue>;

/** The value as a plain number when it is a numeric scalar (bigints converted when safe). */
export function getGgufNumber(metadata: GgufMetadata, key: string): number | undefined {
  const entry = metadata.get(key);
  if (!entry) return undefined;
  if (entry.type === "uint64" || entry.type === "int64") {
    const asNumber = Number(entry.value);
    return Number.isSafeInteger(asNumber) ? asNumber : undefined;
  }
  return "value" in entry && typeof entry.value === "number" ? entry.value : undefined;
}

export function getGgufString(metadata: GgufMetadata, key: string): string | undefined {
  const entry = metadata.get(key);
  return entry?.type === "string" ? entry.value : undefined;
}

/** A JSON-friendly rendering: bigints become numbers when safe (else decimal strings), arrays become plain lists. */
/** The vocabulary size the embedded tokenizer lists (tokenizer.ggml.tokens); 0 when there is none. */
export function ggufVocabularySize(metadata: GgufMetadata): number {
  const tokens = metadata.get("tokenizer.ggml.tokens");
  return tokens?.type === "array" ? tokens.items.length : 0;
}

export function ggufValueToJson(value: GgufValue): unknown {
  switch (value.type) {
    case "uint64":
    case "int64":
      return Number.isSafeInteger(Number(value.value)) ? Number(value.value) : value.value.toString();
    case "array":
      return ggufArrayItemsToJson(value.items, value.items.length);
    case "float32":
      return shortestFloat32(value.value);
    default:
      return value.value;
  }
}

/** The first `limit` items as JSON-friendly values. */
export function ggufArrayItemsToJson(items: GgufArrayItems, limit: number): unknown[] {
  const out: unknown[] = [];
  const count = Math.min(limit, items.length);
  for (let index = 0; index < count; index += 1) {
    const item: unknown = items[index];
    if (items instanceof Float32Array) out.push(shortestFloat32(item as number));
    else if (typeof item === "bigint") out.push(Number.isSafeInteger(Number(item)) ? Number(item) : item.toString());
    else if (typeof item === "object" && item !== null) out.push(ggufValueToJson(item as GgufArrayValue));
    else out.push(item);
  }
  return out;
}

/** The shortest decimal that reads back as the same float32 (1e-5, not 0.000009999999747378752). */
export function shortestFloat32(value: number): number {
  if (!Number.isFinite(value)) return value;
  for (let digits = 1; digits < 17; digits += 1) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}
