import { openByteSource } from "../../core/byte-source.js";
import { EdgeforgeError } from "../../core/errors.js";
import { getGgufNumber } from "../../formats/gguf/gguf-metadata.js";
import { readGgufHeader, type GgufTensorInfo } from "../../formats/gguf/read-gguf.js";
import { readGgufTensorData } from "../../formats/gguf/read-gguf-tensor-data.js";

/**
 * An importance matrix as llama_model_quantize takes it: per weight tensor, the mean squared
 * input activation of each column (per expert for MoE tensors). The file is read in TypeScript
 * because llama.cpp's loader (common_imatrix_load) lives in libllama-common, a C++ API, and the
 * values are normalised exactly like llama-quantize's load_imatrix does.
 */
export interface ImportanceMatrix {
  format: "gguf" | "legacy";
  entries: Array<{ name: string; values: Float32Array }>;
  datasets: string[];
  chunkCount: number;
}

const sumsSuffix = ".in_sum2";
const countsSuffix = ".counts";

function invalid(path: string, what: string, details: Record<string, unknown> = {}): EdgeforgeError {
  return new EdgeforgeError("INVALID_OPTION", `${path} is not a usable importance matrix: ${what}`, {
    hint: "pass a file written by llama-imatrix (GGUF, or the legacy .dat format)",
    details: { path, ...details },
  });
}

export async function readImportanceMatrix(path: string, signal?: AbortSignal): Promise<ImportanceMatrix> {
  let isGguf: boolean;
  {
    await using source = await openByteSource(path);
    if (source.sizeBytes < 4) throw invalid(path, `only ${source.sizeBytes} bytes`);
    const magic = await source.read(0, 4);
    isGguf = new TextDecoder().decode(magic) === "GGUF";
  }
  return isGguf ? readGgufImatrix(path, signal) : readLegacyImatrix(path);
}

async function readGgufImatrix(path: string, signal?: AbortSignal): Promise<ImportanceMatrix> {
  const header = await readGgufHeader(path, { signal });
  const datasetsEntry = header.metadata.get("imatrix.datasets");
  const chunkCount = getGgufNumber(header.metadata, "imatrix.chunk_count");
  const chunkSize = getGgufNumber(header.metadata, "imatrix.chunk_size");
  if (!datasetsEntry || chunkCount === undefined || chunkSize === undefined) {
    throw invalid(path, "it lacks the imatrix.datasets / imatrix.chunk_count / imatrix.chunk_size metadata llama-quantize requires");
  }
  const datasets = datasetsEntry.type === "array" && datasetsEntry.itemType === "string" ? (datasetsEntry.items as string[]) : [];
  const pairs = new Map<string, { sums?: GgufTensorInfo; counts?: GgufTensorInfo }>();
  for (const tensor of header.tensors) {
    const suffix = tensor.name.endsWith(sumsSuffix) ? sumsSuffix : tensor.name.endsWith(countsSuffix) ? countsSuffix : undefined;
    if (!suffix) continue;
    const name = tensor.name.slice(0, -suffix.length);
    const pair = pairs.get(name) ?? {};
    if (suffix === sumsSuffix) pair.sums = tensor;
    else pair.counts = tensor;
    pairs.set(name, pair);
  }
  if (pairs.size === 0) throw invalid(path, "it holds no *.in_sum2 / *.counts tensors");
  const entries: ImportanceMatrix["entries"] = [];
  for (const [name, { sums, counts }] of pairs) {
    if (!sums || !counts) throw invalid(path, `tensor "${name}" has ${sums ? "no counts" : "no sums"}`, { tensor: name });
    if (sums.type !== "F32" || counts.type !== "F32") throw invalid(path, `sums and counts of "${name}" must be F32`, { tensor: name });
    if (counts.elementCount === 0 || sums.elementCount % counts.elementCount !== 0) {
      throw invalid(path, `"${name}" has ${sums.elementCount} sums for ${counts.elementCount} counts`, { tensor: name });
    }
    const sumValues = toFloat32(await readGgufTensorData(path, header, sums.name, { signal }));
    const countValues = toFloat32(await readGgufTensorData(path, header, counts.name, { signal }));
    const columns = sums.elementCount / counts.elementCount;
    const values = new Float32Array(sums.elementCount);
    for (let expert = 0; expert < countValues.length; expert += 1) {
      const count = Math.round(countValues[expert] ?? 0);
      for (let column = 0; column < columns; column += 1) {
        const index = expert * columns + column;
        values[index] = count > 0 ? (sumValues[index] ?? 0) / count : 1;
      }
    }
    checkFinite(path, name, values);
    entries.push({ name, values });
  }
  return { format: "gguf", entries, datasets, chunkCount };
}

/** The pre-GGUF layout: int32 count, then per entry (int32 name length, name, int32 ncall, int32 nval, float32[nval]), then optional chunk count and dataset. */
async function readLegacyImatrix(path: string): Promise<ImportanceMatrix> {
  await using source = await openByteSource(path);
  let offset = 0;
  const int32 = async (): Promise<number> => {
    const bytes = await source.read(offset, 4);
    offset += 4;
    return new DataView(bytes.buffer, bytes.byteOffset, 4).getInt32(0, true);
  };
  const count = await int32();
  if (count < 1 || count * 12 > source.sizeBytes) throw invalid(path, `it declares ${count} entries`);
  const entries: ImportanceMatrix["entries"] = [];
  for (let index = 0; index < count; index += 1) {
    const nameLength = await int32();
    if (nameLength <= 0 || nameLength > 4096) throw invalid(path, `entry ${index} has a name length of ${nameLength}`);
    const name = new TextDecoder().decode(await source.read(offset, nameLength));
    offset += nameLength;
    const calls = await int32();
    const valueCount = await int32();
    if (valueCount < 1 || valueCount * 4 > source.sizeBytes - offset) throw invalid(path, `entry "${name}" declares ${valueCount} values`);
    const sums = toFloat32(await source.read(offset, valueCount * 4));
    offset += valueCount * 4;
    const values = calls > 0 ? sums.map((sum) => sum / calls) : sums;
    checkFinite(path, name, values);
    entries.push({ name, values });
  }
  let chunkCount = 0;
  const datasets: string[] = [];
  if (offset + 4 <= source.sizeBytes) {
    chunkCount = await int32();
    if (offset + 4 <= source.sizeBytes) {
      const length = await int32();
      if (length > 0 && offset + length <= source.sizeBytes) datasets.push(new TextDecoder().decode(await source.read(offset, length)));
    }
  }
  return { format: "legacy", entries, datasets, chunkCount };
}

function toFloat32(bytes: Uint8Array): Float32Array {
  const copy = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  return new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4);
}

/** llama.cpp throws on non-finite importance values; say which tensor before starting the engine. */
function checkFinite(path: string, name: string, values: Float32Array): void {
  for (const value of values) {
    if (!Number.isFinite(value)) throw invalid(path, `"${name}" holds a non-finite value (${value})`, { tensor: name });
  }
}
