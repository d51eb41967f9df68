import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../../core/atomic-write.js";
import { EdgeforgeError } from "../../core/errors.js";
import { readGgufHeader, type GgufHeader, type GgufTensorInfo } from "../../formats/gguf/read-gguf.js";
import { readGgufTensorData } from "../../formats/gguf/read-gguf-tensor-data.js";
import type { SafetensorsDtype } from "../../formats/safetensors/read-safetensors.js";
import { writeSafetensorsFile } from "../../formats/safetensors/write-safetensors-file.js";
import { ggufTokenizerToHf, type HfTokenizerFiles } from "./gguf-tokenizer-to-hf.js";
import { llamaConfigJson, readGgufLlamaHyperparameters, type LlamaHyperparameters } from "./llama-hyperparameters.js";
import { hfTensorName, permuteRopeRows, ropeHeadsOf } from "./llama-tensor-names.js";
import { decodeFloats, encodeGgufTensor } from "./tensor-encodings.js";

/** One weight in Hugging Face layout (name, [out, in] shape, RoPE halves un-interleaved), decoded on demand. */
export interface HfLayoutTensor {
  name: string;
  shape: number[];
  /** The GGUF storage type it came from (F32, F16 or BF16). */
  sourceType: "F32" | "F16" | "BF16";
  values(signal?: AbortSignal): Promise<Float32Array>;
}

export interface GgufAsHf {
  hp: LlamaHyperparameters;
  tensors: HfLayoutTensor[];
  tokenizer: HfTokenizerFiles;
  header: GgufHeader;
}

/**
 * Read a llama GGUF (F32/F16/BF16 tensors, SentencePiece vocabulary) as a Hugging Face
 * checkpoint: tensor names mapped back, Q/K rows permuted back to rotate_half order (the inverse
 * of convert_hf_to_gguf's permute), shapes in PyTorch order, tokenizer files rebuilt.
 */
export async function readGgufAsHf(path: string, options: { tokenizerJson?: boolean; signal?: AbortSignal } = {}): Promise<GgufAsHf> {
  const header = await readGgufHeader(path, { signal: options.signal });
  const hasOutput = header.tensors.some((tensor) => tensor.name === "output.weight");
  const hp = readGgufLlamaHyperparameters(header.metadata, hasOutput, path);
  const tokenizer = ggufTokenizerToHf(header.metadata, path, { tokenizerJson: options.tokenizerJson ?? false, contextLength: hp.contextLength });
  const tensors: HfLayoutTensor[] = [];
  for (const tensor of header.tensors) {
    const name = hfTensorName(tensor.name);
    if (!name) {
      if (tensor.name === "rope_freqs.weight") continue;
      throw new EdgeforgeError("UNSUPPORTED_FEATURE", `${path} holds tensor "${tensor.name}", which has no Hugging Face llama counterpart`, {
        hint: "only plain llama/qwen2 decoder GGUFs can be exported",
        details: { tensor: tensor.name },
      });
    }
    if (tensor.type !== "F32" && tensor.type !== "F16" && tensor.type !== "BF16") {
      throw new EdgeforgeError("UNSUPPORTED_FEATURE", `${path}: tensor "${tensor.name}" is ${tensor.type}; export reads F32, F16 and BF16 GGUFs`, {
        hint: "export from the F16/F32 GGUF (before llama.cpp quantization)",
        details: { tensor: tensor.name, type: tensor.type },
      });
    }
    tensors.push(hfTensor(path, header, tensor, name, hp, tensor.type));
  }
  return { hp, tensors, tokenizer, header };
}

function hfTensor(path: string, header: GgufHeader, tensor: GgufTensorInfo, name: string, hp: LlamaHyperparameters, sourceType: "F32" | "F16" | "BF16"): HfLayoutTensor {
  const shape = [...tensor.dims].reverse();
  return {
    name,
    shape,
    sourceType,
    async values(signal) {
      const values = decodeFloats(await readGgufTensorData(path, header, tensor.name, { signal }), sourceType);
      const heads = ropeHeadsOf(tensor.name, hp);
      return heads === undefined ? values : permuteRopeRows(values, heads, tensor.dims.length > 1 ? (tensor.dims[0] as number) : 1, false);
    },
  };
}

export type HfExportDtype = "auto" | "F32" | "F16" | "BF16";

/**
 * Write a Hugging Face folder: model.safetensors, config.json and the tokenizer files. "auto"
 * keeps each tensor's GGUF storage type (F16 matrices, F32 norms), so the export is lossless.
 */
export async function writeGgufAsHfFolder(exported: GgufAsHf, folder: string, dtype: HfExportDtype = "auto", signal?: AbortSignal): Promise<void> {
  await mkdir(folder, { recursive: true });
  const tensors = exported.tensors.map((tensor) => {
    const type = dtype === "auto" ? tensor.sourceType : dtype;
    return {
      name: tensor.name,
      dtype: type as SafetensorsDtype,
      shape: tensor.shape,
      data: async () => encodeGgufTensor(await tensor.values(signal), type).bytes,
    };
  });
  await writeSafetensorsFile(join(folder, "model.safetensors"), tensors, { format: "pt" }, signal);
  const torchDtype = dtype === "F32" ? "float32" : dtype === "BF16" ? "bfloat16" : "float16";
  await writeFileAtomic(join(folder, "config.json"), `${JSON.stringify(llamaConfigJson(exported.hp, torchDtype), null, 2)}\n`);
  for (const file of exported.tokenizer.files) await writeFileAtomic(join(folder, file.name), file.bytes);
}
