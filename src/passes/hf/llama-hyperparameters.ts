import { EdgeforgeError } from "../../core/errors.js";
import { getGgufNumber, getGgufString, ggufVocabularySize, type GgufMetadata, type GgufValue } from "../../formats/gguf/gguf-metadata.js";

/** The llama family edgeforge converts: Llama (and Mistral, which llama.cpp runs as `llama`) and Qwen2. */
export const hfArchitectures = {
  LlamaForCausalLM: { family: "llama", ggufArchitecture: "llama", modelType: "llama" },
  MistralForCausalLM: { family: "mistral", ggufArchitecture: "llama", modelType: "mistral" },
  Qwen2ForCausalLM: { family: "qwen2", ggufArchitecture: "qwen2", modelType: "qwen2" },
} as const;

export type HfArchitectureName = keyof typeof hfArchitectures;
export type LlamaFamily = (typeof hfArchitectures)[HfArchitectureName]["family"];

export interface LlamaHyperparameters {
  architecture: HfArchitectureName;
  family: LlamaFamily;
  ggufArchitecture: "llama" | "qwen2";
  hiddenSize: number;
  layerCount: number;
  headCount: number;
  kvHeadCount: number;
  feedForwardSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  contextLength: number;
  vocabSize: number;
  /** Per-head dimension; `explicitHeadDim` when config.json sets head_dim. */
  headDim: number;
  explicitHeadDim: boolean;
  tieWordEmbeddings: boolean;
  ropeScaling?: { type: "linear"; factor: number } | { type: "llama3"; factor: number; lowFreqFactor: number; highFreqFactor: number; originalContextLength: number };
  bosTokenId?: number;
  eosTokenId?: number;
}

function unsupported(message: string, hint: string, details: Record<string, unknown>): EdgeforgeError {
  return new EdgeforgeError("UNSUPPORTED_FEATURE", message, { hint, details });
}

/** Read and check config.json of a llama-family checkpoint (as convert_hf_to_gguf's TextModel/LlamaModel/Qwen2Model read it). */
export function readLlamaHyperparameters(config: Record<string, unknown>, where: string): LlamaHyperparameters {
  const architectures = Array.isArray(config.architectures) ? config.architectures.filter((a): a is string => typeof a === "string") : [];
  const byModelType = Object.entries(hfArchitectures).find(([, info]) => info.modelType === config.model_type)?.[0];
  const architecture = (architectures.find((name) => Object.hasOwn(hfArchitectures, name)) ?? byModelType) as HfArchitectureName | undefined;
  if (!architecture) {
    throw unsupported(
      `${where} is a ${architectures[0] ?? String(config.model_type ?? "unknown")} model; the converter handles ${Object.keys(hfArchitectures).join(", ")}`,
      "convert other architectures with llama.cpp's convert_hf_to_gguf.py",
      { architectures, modelType: config.model_type },
    );
  }
  const number = (key: string, fallback?: number): number => {
    const value = config[key];
    if (typeof value === "number" && Number.isFinite(value)) return value;
    if (fallback !== undefined) return fallback;
    throw new EdgeforgeError("INVALID_CONFIG", `${where} has no numeric "${key}"`, { hint: "config.json of a llama-family model lists it; re-download the model", details: { key } });
  };
  const info = hfArchitectures[architecture];
  const hiddenSize = number("hidden_size");
  const headCount = number("num_attention_heads");
  const explicitHeadDim = typeof config.head_dim === "number";
  const headDim = explicitHeadDim ? number("head_dim") : hiddenSize / headCount;
  const kvHeadCount = number("num_key_value_heads", headCount);
  if (!Number.isInteger(headDim) || headDim % 2 !== 0 || headCount % kvHeadCount !== 0) {
    throw new EdgeforgeError("INVALID_CONFIG", `${where}: head dimension ${headDim} with ${headCount} heads and ${kvHeadCount} KV heads is not a valid attention layout`, {
      hint: "check hidden_size, num_attention_heads, num_key_value_heads and head_dim",
    });
  }
  return {
    architecture,
    family: info.family,
    ggufArchitecture: info.ggufArchitecture,
    hiddenSize,
    layerCount: number("num_hidden_layers"),
    headCount,
    kvHeadCount,
    feedForwardSize: number("intermediate_size"),
    rmsNormEps: number("rms_norm_eps", 1e-6),
    ropeTheta: number("rope_theta", 10000),
    contextLength: number("max_position_embeddings", 2048),
    vocabSize: number("vocab_size"),
    headDim,
    explicitHeadDim,
    tieWordEmbeddings: config.tie_word_embeddings === true,
    ...ropeScalingOf(config, where),
    ...(typeof config.bos_token_id === "number" ? { bosTokenId: config.bos_token_id } : {}),
    ...(typeof config.eos_token_id === "number" ? { eosTokenId: config.eos_token_id } : {}),
  };
}

function ropeScalingOf(config: Record<string, unknown>, where: string): Pick<LlamaHyperparameters, "ropeScaling"> {
  const scaling = config.rope_scaling as Record<string, unknown> | null | undefined;
  if (!scaling || typeof scaling !== "object") return {};
  const type = scaling.rope_type ?? scaling.type;
  const factor = typeof scaling.factor === "number" ? scaling.factor : undefined;
  if (type === "default" || type === undefined) return {};
  if (type === "linear" && factor !== undefined) return { ropeScaling: { type: "linear", factor } };
  if (type === "llama3" && factor !== undefined) {
    return {
      ropeScaling: {
        type: "llama3",
        factor,
        lowFreqFactor: typeof scaling.low_freq_factor === "number" ? scaling.low_freq_factor : 1,
        highFreqFactor: typeof scaling.high_freq_factor === "number" ? scaling.high_freq_factor : 4,
        originalContextLength: typeof scaling.original_max_position_embeddings === "number" ? scaling.original_max_position_embeddings : 8192,
      },
    };
  }
  throw unsupported(`${where} uses RoPE scaling ${JSON.stringify(type)}, which the converter does not handle`, "linear and llama3 RoPE scaling are supported; use convert_hf_to_gguf.py for others", {
    ropeScaling: scaling,
  });
}

/** llama3 RoPE frequency factors (convert_hf_to_gguf LlamaModel.generate_extra_tensors → rope_freqs.weight). */
export function llama3RopeFactors(hp: LlamaHyperparameters): Float32Array | undefined {
  const scaling = hp.ropeScaling;
  if (scaling?.type !== "llama3") return undefined;
  const factors = new Float32Array(hp.headDim / 2);
  const lowWavelength = scaling.originalContextLength / scaling.lowFreqFactor;
  const highWavelength = scaling.originalContextLength / scaling.highFreqFactor;
  for (let i = 0; i < factors.length; i += 1) {
    const frequency = 1 / hp.ropeTheta ** (Math.fround((2 * i) / hp.headDim));
    const wavelength = (2 * Math.PI) / frequency;
    if (wavelength < highWavelength) factors[i] = 1;
    else if (wavelength > lowWavelength) factors[i] = scaling.factor;
    else {
      const smooth = (scaling.originalContextLength / wavelength - scaling.lowFreqFactor) / (scaling.highFreqFactor - scaling.lowFreqFactor);
      factors[i] = 1 / ((1 - smooth) / scaling.factor + smooth);
    }
  }
  return factors;
}

const u32 = (value: number): GgufValue => ({ type: "uint32", value });
const f32 = (value: number): GgufValue => ({ type: "float32", value });

/** The architecture metadata convert_hf_to_gguf writes for these models (TextModel.set_gguf_parameters + LlamaModel's additions). */
export function llamaArchitectureMetadata(hp: LlamaHyperparameters): Array<[string, GgufValue]> {
  const a = hp.ggufArchitecture;
  const entries: Array<[string, GgufValue]> = [
    [`${a}.block_count`, u32(hp.layerCount)],
    [`${a}.context_length`, u32(hp.contextLength)],
    [`${a}.embedding_length`, u32(hp.hiddenSize)],
    [`${a}.feed_forward_length`, u32(hp.feedForwardSize)],
    [`${a}.attention.head_count`, u32(hp.headCount)],
    [`${a}.attention.head_count_kv`, u32(hp.kvHeadCount)],
  ];
  if (hp.ropeScaling?.type === "linear") {
    entries.push([`${a}.rope.scaling.type`, { type: "string", value: "linear" }], [`${a}.rope.scaling.factor`, f32(hp.ropeScaling.factor)]);
  }
  entries.push([`${a}.rope.freq_base`, f32(hp.ropeTheta)], [`${a}.attention.layer_norm_rms_epsilon`, f32(hp.rmsNormEps)]);
  if (hp.explicitHeadDim) entries.push([`${a}.attention.key_length`, u32(hp.headDim)], [`${a}.attention.value_length`, u32(hp.headDim)]);
  if (a === "llama") entries.push([`${a}.vocab_size`, u32(hp.vocabSize)], [`${a}.rope.dimension_count`, u32(hp.headDim)]);
  return entries;
}

/** The inverse: a GGUF llama/qwen2 header's hyperparameters, for exporting it as a Hugging Face folder. */
export function readGgufLlamaHyperparameters(metadata: GgufMetadata, hasOutputTensor: boolean, where: string): LlamaHyperparameters {
  const a = getGgufString(metadata, "general.architecture");
  if (a !== "llama" && a !== "qwen2") {
    throw unsupported(`${where} is a ${a ?? "unknown"} model; only llama and qwen2 GGUFs can be exported`, "export llama-family models", { architecture: a });
  }
  const need = (key: string, fallback?: number): number => {
    const value = getGgufNumber(metadata, key);
    if (value !== undefined) return value;
    if (fallback !== undefined) return fallback;
    throw new EdgeforgeError("CORRUPT_MODEL", `${where} lacks ${key}`, { hint: "the GGUF is incomplete; re-convert it" });
  };
  const hiddenSize = need(`${a}.embedding_length`);
  const headCount = need(`${a}.attention.head_count`);
  const keyLength = getGgufNumber(metadata, `${a}.attention.key_length`);
  const scalingType = getGgufString(metadata, `${a}.rope.scaling.type`);
  const bos = getGgufNumber(metadata, "tokenizer.ggml.bos_token_id");
  const eos = getGgufNumber(metadata, "tokenizer.ggml.eos_token_id");
  const architecture = a === "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM";
  return {
    architecture,
    family: hfArchitectures[architecture].family,
    ggufArchitecture: a,
    hiddenSize,
    layerCount: need(`${a}.block_count`),
    headCount,
    kvHeadCount: need(`${a}.attention.head_count_kv`, headCount),
    feedForwardSize: need(`${a}.feed_forward_length`),
    rmsNormEps: need(`${a}.attention.layer_norm_rms_epsilon`),
    ropeTheta: need(`${a}.rope.freq_base`, 10000),
    contextLength: need(`${a}.context_length`),
    vocabSize: need(`${a}.vocab_size`, ggufVocabularySize(metadata) || undefined),
    headDim: keyLength ?? hiddenSize / headCount,
    explicitHeadDim: keyLength !== undefined,
    tieWordEmbeddings: !hasOutputTensor,
    ...(scalingType === "linear" ? { ropeScaling: { type: "linear" as const, factor: need(`${a}.rope.scaling.factor`) } } : {}),
    ...(bos === undefined ? {} : { bosTokenId: bos }),
    ...(eos === undefined ? {} : { eosTokenId: eos }),
  };
}

/** config.json for a llama-family checkpoint with these hyperparameters (what transformers writes for the architecture). */
export function llamaConfigJson(hp: LlamaHyperparameters, torchDtype: "float32" | "float16" | "bfloat16"): Record<string, unknown> {
  const modelType = hfArchitectures[hp.architecture].modelType;
  return {
    architectures: [hp.architecture],
    model_type: modelType,
    hidden_act: "silu",
    hidden_size: hp.hiddenSize,
    intermediate_size: hp.feedForwardSize,
    num_hidden_layers: hp.layerCount,
    num_attention_heads: hp.headCount,
    num_key_value_heads: hp.kvHeadCount,
    ...(hp.explicitHeadDim ? { head_dim: hp.headDim } : {}),
    max_position_embeddings: hp.contextLength,
    rms_norm_eps: hp.rmsNormEps,
    rope_theta: hp.ropeTheta,
    ...(hp.ropeScaling?.type === "linear" ? { rope_scaling: { type: "linear", factor: hp.ropeScaling.factor } } : {}),
    vocab_size: hp.vocabSize,
    tie_word_embeddings: hp.tieWordEmbeddings,
    ...(hp.bosTokenId === undefined ? {} : { bos_token_id: hp.bosTokenId }),
    ...(hp.eosTokenId === undefined ? {} : { eos_token_id: hp.eosTokenId }),
    ...(hp.family === "qwen2" ? { use_sliding_window: false } : {}),
    torch_dtype: torchDtype,
  };
}
