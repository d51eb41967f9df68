import { writeFile } from "node:fs/promises";
import type { GgufValue } from "../../src/formats/gguf/gguf-metadata.js";
import { writeGguf } from "../../src/formats/gguf/write-gguf.js";
import type { ImatrixSums } from "./reference-llama-forward.js";

/** llama-imatrix's GGUF layout: per weight "<name>.in_sum2" (Σ x², F32 [cols]) and "<name>.counts" (F32 [1]), plus imatrix.* metadata. */
export async function writeGgufImatrix(path: string, sums: ImatrixSums, dataset: string, chunkCount: number, chunkSize: number): Promise<void> {
  const metadata: Array<[string, GgufValue]> = [
    ["general.type", { type: "string", value: "imatrix" }],
    ["imatrix.datasets", { type: "array", itemType: "string", items: [dataset] }],
    ["imatrix.chunk_count", { type: "uint32", value: chunkCount }],
    ["imatrix.chunk_size", { type: "uint32", value: chunkSize }],
  ];
  const tensors = [...sums].flatMap(([name, entry]) => [
    { name: `${name}.in_sum2`, dims: [entry.sums.length], type: "F32" as const, data: new Uint8Array(Float32Array.from(entry.sums).buffer) },
    { name: `${name}.counts`, dims: [1], type: "F32" as const, data: new Uint8Array(Float32Array.of(entry.count).buffer) },
  ]);
  await writeGguf(path, { metadata, tensors });
}

/** The legacy .dat layout: values stored as mean · ncall, which the loader divides by ncall. */
export async function writeLegacyImatrix(path: string, sums: ImatrixSums, calls: number): Promise<void> {
  const parts: Buffer[] = [];
  const int32 = (value: number): Buffer => {
    const buffer = Buffer.alloc(4);
    buffer.writeInt32LE(value);
    return buffer;
  };
  parts.push(int32(sums.size));
  for (const [name, entry] of sums) {
    const nameBytes = Buffer.from(name, "utf8");
    parts.push(int32(nameBytes.length), nameBytes, int32(calls), int32(entry.sums.length));
    parts.push(Buffer.from(Float32Array.from(entry.sums, (sum) => (sum / entry.count) * calls).buffer));
  }
  await writeFile(path, Buffer.concat(parts));
}

/** Every column equally important: what quantizing without calibration data assumes. */
export function uniformImatrix(like: ImatrixSums): ImatrixSums {
  return new Map([...like].map(([name, entry]) => [name, { sums: new Float64Array(entry.sums.length).fill(entry.count), count: entry.count }]));
}
