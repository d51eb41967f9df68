import { openAtomicWriter } from "../../core/atomic-write.js";
import { EdgeforgeError } from "../../core/errors.js";
import { encodeGgufHeader, type GgufTensorLayout } from "./encode-gguf-header.js";
import type { GgufMetadata, GgufValue } from "./gguf-metadata.js";
import { alignUp } from "./read-gguf.js";

export interface GgufTensorInput extends GgufTensorLayout {
  /** The tensor's stored bytes, whole or as a stream (e.g. `() => readGgufTensorChunks(...)`). */
  data: Uint8Array | (() => AsyncIterable<Uint8Array>);
}

export interface GgufWriteInput {
  /** Written in iteration order; `general.alignment`, when present, must be a uint32 equal to `alignment`. */
  metadata: GgufMetadata | Iterable<readonly [string, GgufValue]>;
  tensors: GgufTensorInput[];
  /** Data alignment in bytes (a power of two); default: the metadata's general.alignment, else 32. */
  alignment?: number;
}

export interface WriteGgufOptions {
  signal?: AbortSignal;
}

export interface WriteGgufResult {
  path: string;
  sizeBytes: number;
  dataOffset: number;
  tensorCount: number;
}

const alignmentKey = "general.alignment";

function resolveAlignment(entries: Array<readonly [string, GgufValue]>, requested: number | undefined): number {
  const stored = entries.find(([key]) => key === alignmentKey)?.[1];
  if (stored && stored.type !== "uint32") {
    throw new EdgeforgeError("INVALID_OPTION", `${alignmentKey} must be a uint32, not ${stored.type}`, { hint: "store it as { type: \"uint32\", value }" });
  }
  const alignment = requested ?? (stored?.type === "uint32" ? stored.value : 32);
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
    throw new EdgeforgeError("INVALID_OPTION", `alignment ${alignment} is not a power of two`, { hint: "use 32 (the GGUF default) or another power of two" });
  }
  if (stored?.type === "uint32" && stored.value !== alignment) {
    throw new EdgeforgeError("INVALID_OPTION", `alignment ${alignment} disagrees with the metadata's ${alignmentKey} ${stored.value}`, {
      hint: `drop one of them, or make them equal`,
    });
  }
  if (!stored && alignment !== 32) entries.push([alignmentKey, { type: "uint32", value: alignment }]);
  return alignment;
}

async function* chunksOf(data: GgufTensorInput["data"]): AsyncGenerator<Uint8Array> {
  if (data instanceof Uint8Array) yield data;
  else yield* data();
}

/**
 * Write a GGUF v3 file: header, then each tensor's bytes padded with zeros to the alignment,
 * streamed through a temp file that is renamed into place only when complete.
 */
export async function writeGguf(outPath: string, input: GgufWriteInput, options: WriteGgufOptions = {}): Promise<WriteGgufResult> {
  const { signal } = options;
  signal?.throwIfAborted();
  const entries = [...input.metadata];
  const alignment = resolveAlignment(entries, input.alignment);
  const header = encodeGgufHeader(entries, input.tensors, alignment);
  const dataOffset = input.tensors.length > 0 ? alignUp(header.bytes.length, alignment) : header.bytes.length;
  const padding = new Uint8Array(alignment);

  const writer = await openAtomicWriter(outPath);
  try {
    await writer.write(header.bytes);
    await writer.write(padding.subarray(0, dataOffset - header.bytes.length));
    for (const [index, tensor] of input.tensors.entries()) {
      const expected = header.tensorSizes[index] ?? 0;
      let written = 0;
      for await (const chunk of chunksOf(tensor.data)) {
        signal?.throwIfAborted();
        written += chunk.byteLength;
        if (written > expected) break;
        await writer.write(chunk);
      }
      if (written !== expected) {
        throw new EdgeforgeError("INVALID_OPTION", `tensor "${tensor.name}" supplied ${written > expected ? "more than" : written} bytes; its ${tensor.type} [${tensor.dims.join(", ")}] layout needs ${expected}`, {
          hint: "the data must be the tensor's stored bytes in ggml layout",
          details: { tensor: tensor.name, expectedBytes: expected, suppliedBytes: written },
        });
      }
      await writer.write(padding.subarray(0, alignUp(expected, alignment) - expected));
    }
    await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
  return { path: outPath, sizeBytes: writer.bytesWritten(), dataOffset, tensorCount: input.tensors.length };
}
