/** The LLM path's public entry points (GGUF quantization, HF/MLX conversion, LLM evaluation). */
export * from "./evaluate-llm.js";
export * from "./quantize-gguf.js";
export * from "./convert-model.js";
