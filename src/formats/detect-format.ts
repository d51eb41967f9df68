import { stat } from "node:fs/promises";
import { extname, join } from "node:path";
import type { ModelFormat } from "../core/artifact.js";
import { openByteSource } from "../core/byte-source.js";
import { EdgeforgeError, fileError } from "../core/errors.js";
import { llama2cHeadBytes, parseLlama2cHeader } from "./llama2c/read-llama2c.js";
import { readJsonFile } from "./safetensors/read-hf-folder.js";

export interface DetectedFormat {
  format: ModelFormat;
  /** "file" for single files; "folder" for Hugging Face / MLX layouts. */
  layout: "file" | "folder";
  /** A file's size (absent for folders). */
  sizeBytes?: number;
}

const extensionFormats: Record<string, ModelFormat> = {
  ".onnx": "onnx",
  ".gguf": "gguf",
  ".safetensors": "safetensors",
};

/**
 * Decide a model's format from its first bytes, and check that the extension agrees: a
 * `.gguf` that is not GGUF is a user mistake worth naming, not a parse error deep inside.
 */
export async function detectModelFormat(path: string): Promise<DetectedFormat> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch (error) {
    throw fileError(error, path, "read");
  }
  if (isFolder) return detectFolderFormat(path);

  await using source = await openByteSource(path);
  if (source.sizeBytes === 0) {
    throw new EdgeforgeError("EMPTY_FILE", `${path} is empty (0 bytes)`, {
      hint: "the download or export did not complete; produce the file again",
      details: { path },
    });
  }
  const head = await source.read(0, Math.min(llama2cHeadBytes, source.sizeBytes));
  const sniffed = sniffFormat(head, source.sizeBytes, path);
  const byExtension = extensionFormats[extname(path).toLowerCase()];
  if (sniffed && byExtension && sniffed !== byExtension) {
    throw new EdgeforgeError("WRONG_EXTENSION", `${path} has a ${extname(path)} extension but its contents are ${sniffed}`, {
      hint: `rename it to end in .${sniffed}, or check that the right file was passed`,
      details: { path, extension: extname(path), contents: sniffed },
    });
  }
  const format = sniffed ?? byExtension;
  if (!format) {
    throw new EdgeforgeError("UNKNOWN_FORMAT", `cannot tell the format of ${path}`, {
      hint: "edgeforge reads .onnx, .gguf and .safetensors files, llama2.c checkpoints, and Hugging Face folders with config.json",
      details: { path },
    });
  }
  return { format, layout: "file", sizeBytes: source.sizeBytes };
}

function sniffFormat(head: Uint8Array, sizeBytes: number, path: string): ModelFormat | undefined {
  // "GGUF" magic, little-endian.
  if (head[0] === 0x47 && head[1] === 0x47 && head[2] === 0x55 && head[3] === 0x46) return "gguf";
  // llama2.c has no magic in its legacy layout: the config must describe exactly the file's size.
  if (parseLlama2cHeader(head, sizeBytes, path)) return "llama2c";
  // safetensors: u64 header length then '{'.
  if (head.length >= 9 && head[8] === 0x7b) return "safetensors";
  // ONNX ModelProto starts with field 1 (ir_version, varint): tag 0x08. No magic exists, so
  // the extension must agree; a protobuf that fails to decode is reported by the ONNX reader.
  if (head[0] === 0x08) return "onnx";
  return undefined;
}

async function detectFolderFormat(path: string): Promise<DetectedFormat> {
  const config = join(path, "config.json");
  try {
    await stat(config);
  } catch {
    throw new EdgeforgeError("UNKNOWN_FORMAT", `${path} is a folder without config.json`, {
      hint: "pass a model file, or a Hugging Face / MLX folder that holds config.json and *.safetensors",
      details: { path },
    });
  }
  // MLX folders are Hugging Face layouts whose config.json carries mlx-lm's "quantization" block.
  const parsed = await readJsonFile(config);
  return { format: typeof parsed.quantization === "object" && parsed.quantization !== null ? "mlx" : "safetensors", layout: "folder" };
}
