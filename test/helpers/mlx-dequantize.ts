import { copyFile, mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { convertFromFloat16 } from "../../src/kernels/float16.js";
import { readSafetensorsHeader, readSafetensorsTensorData, type SafetensorsHeader } from "../../src/formats/safetensors/read-safetensors.js";
import { writeSafetensorsFile } from "../../src/formats/safetensors/write-safetensors-file.js";

/**
 * An MLX reader written from MLX's documentation only (mx.quantize / mx.dequantize docstrings):
 * each uint32 holds 32/bits values, the first in the least significant bits; a group of
 * `group_size` consecutive values in a row shares scale s and bias β; w = s·ŵ + β.
 * It shares no code with the exporter.
 */
export function dequantizeMlx(packed: Uint32Array, scales: Float32Array, biases: Float32Array, rows: number, cols: number, bits: number, groupSize: number): Float32Array {
  const perWord = 32 / bits;
  const mask = 2 ** bits - 1;
  const out = new Float32Array(rows * cols);
  for (let row = 0; row < rows; row += 1) {
    for (let col = 0; col < cols; col += 1) {
      const word = packed[row * (cols / perWord) + Math.floor(col / perWord)] as number;
      const q = Math.floor(word / 2 ** ((col % perWord) * bits)) & mask;
      const group = row * (cols / groupSize) + Math.floor(col / groupSize);
      out[row * cols + col] = (scales[group] as number) * q + (biases[group] as number);
    }
  }
  return out;
}

export interface MlxTensorRead {
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

export async function readMlxFolder(folder: string): Promise<{ config: Record<string, unknown>; header: SafetensorsHeader; tensor(name: string): Promise<MlxTensorRead> }> {
  const config = JSON.parse(await readFile(join(folder, "config.json"), "utf8")) as Record<string, unknown>;
  const path = join(folder, "model.safetensors");
  const header = await readSafetensorsHeader(path);
  return {
    config,
    header,
    async tensor(name) {
      const info = header.tensors.find((t) => t.name === name);
      if (!info) throw new Error(`no tensor ${name}`);
      const bytes = await readSafetensorsTensorData(path, header, name);
      return { dtype: info.dtype, shape: info.shape, bytes };
    },
  };
}

export function float16Values(bytes: Uint8Array): Float32Array {
  const copy = bytes.slice();
  return convertFromFloat16(new Uint16Array(copy.buffer, 0, copy.byteLength / 2));
}

export function uint32Values(bytes: Uint8Array): Uint32Array {
  const copy = bytes.slice();
  return new Uint32Array(copy.buffer, 0, copy.byteLength / 4);
}

/** Dequantize every quantized tensor of an MLX folder (float16 scales) and write a float32 Hugging Face folder of the result. */
export async function writeDequantizedHfFolder(mlxFolder: string, outFolder: string): Promise<void> {
  const mlx = await readMlxFolder(mlxFolder);
  const quantization = mlx.config.quantization as { bits: number; group_size: number };
  const names = mlx.header.tensors.map((t) => t.name).filter((name) => !name.endsWith(".scales") && !name.endsWith(".biases"));
  const tensors = [];
  for (const name of names) {
    const tensor = await mlx.tensor(name);
    let values: Float32Array;
    let shape = tensor.shape;
    if (tensor.dtype === "U32") {
      const base = name.slice(0, -".weight".length);
      const scales = float16Values((await mlx.tensor(`${base}.scales`)).bytes);
      const biases = float16Values((await mlx.tensor(`${base}.biases`)).bytes);
      const rows = tensor.shape[0] as number;
      const cols = ((tensor.shape[1] as number) * 32) / quantization.bits;
      values = dequantizeMlx(uint32Values(tensor.bytes), scales, biases, rows, cols, quantization.bits, quantization.group_size);
      shape = [rows, cols];
    } else {
      values = float16Values(tensor.bytes);
    }
    tensors.push({ name, dtype: "F32" as const, shape, data: new Uint8Array(values.buffer) });
  }
  await mkdir(outFolder, { recursive: true });
  await writeSafetensorsFile(join(outFolder, "model.safetensors"), tensors, { format: "pt" });
  const { quantization: _q, quantization_config: _qc, ...config } = mlx.config;
  await writeFile(join(outFolder, "config.json"), JSON.stringify({ ...config, torch_dtype: "float32" }));
  for (const file of await readdir(mlxFolder)) {
    if (file.startsWith("tokenizer") || file === "special_tokens_map.json") await copyFile(join(mlxFolder, file), join(outFolder, file));
  }
}
