import type { TroubleshootingEntry } from "./diagnosis.js";

/**
 * The seed's per-framework troubleshooting table: the symptoms users report most for each
 * runtime, their usual causes, and what to do. `diagnose` prints the rows for the frameworks a
 * run used; docs/decide.md carries the whole table.
 */
export const troubleshootingTable: readonly TroubleshootingEntry[] = Object.freeze([
  {
    framework: "onnxruntime",
    symptom: "int8 model is not faster (or slower) than float32",
    causes: ["the CPU lacks int8 dot-product instructions (VNNI on x86, dotprod/i8mm on ARM)", "dynamic quantization spends its gain quantizing activations on small MatMuls", "QDQ pairs that ONNX Runtime cannot fuse run as separate Quantize/Dequantize nodes"],
    actions: ["check `edgeforge hw` for avx512_vnni/avx_vnni/dotprod", "try onnx.quantize.int8-static (QDQ) with per-channel weights", "use graph optimization level all so QDQ fuses into QLinear kernels"],
  },
  {
    framework: "onnxruntime",
    symptom: "the GPU/NPU execution provider is not used",
    causes: ["the installed onnxruntime-node build has no such provider", "driver or library versions do not match (CUDA, cuDNN, TensorRT)", "an op is unsupported and the provider declined the graph"],
    actions: ["read the executionProvider actually used in the report (fallbacks are recorded)", "install a build with the provider and matching drivers", "run `edgeforge hw` to see which providers were proven to work"],
  },
  {
    framework: "onnxruntime",
    symptom: "latency varies a lot between runs",
    causes: ["intra-op threads exceed the free cores (over-subscription)", "CPU frequency scaling or thermal throttling", "other processes compete for the cores"],
    actions: ["set threads to the physical core count or fewer", "pin the process (taskset) and use the performance governor", "raise the run count and compare p50 rather than the mean"],
  },
  {
    framework: "onnxruntime",
    symptom: "accuracy drops after quantization",
    causes: ["a few sensitive layers (first/last, attention softmax inputs) lose too much", "calibration data is not representative", "per-tensor scales on layers with outlier channels"],
    actions: ["use onnx.quantize.auto with a maxDrop to keep sensitive nodes in float", "calibrate on real inputs with percentile or entropy ranges", "enable per-channel weights"],
  },
  {
    framework: "openvino",
    symptom: "OpenVINO is recommended but not used",
    causes: ["openvino-node is not installed or fails to load"],
    actions: ["npm install openvino-node on an Intel machine", "re-run `edgeforge hw` to confirm it loads"],
  },
  {
    framework: "openvino",
    symptom: "first inference is very slow",
    causes: ["the model is compiled for the device at load time"],
    actions: ["enable OpenVINO's model cache (CACHE_DIR)", "report warm latency, which edgeforge measures separately from the first inference"],
  },
  {
    framework: "llama.cpp",
    symptom: "tokens/s drops when threads are added",
    causes: ["threads beyond the physical cores share execution units (hyper-threads)", "memory bandwidth, not compute, limits generation"],
    actions: ["set threads to the physical core count (or fewer on big.LITTLE parts)", "use a smaller quantization type to move fewer bytes per token"],
  },
  {
    framework: "llama.cpp",
    symptom: "the model does not fit in memory",
    causes: ["weights at this type exceed the budget", "the KV cache at the chosen context is large"],
    actions: ["pick a lower-bit type that fits (Q4_K_M, Q3_K_M)", "lower the context size", "use a smaller model"],
  },
  {
    framework: "llama.cpp",
    symptom: "output quality collapses after quantization (high KL divergence, perplexity up)",
    causes: ["the type has too few bits for this model size (small models suffer most)", "no importance matrix for low-bit types"],
    actions: ["move up to Q5_K_M/Q6_K/Q8_0", "quantize with an importance matrix computed on representative text"],
  },
  {
    framework: "mlx",
    symptom: "MLX is not available",
    causes: ["MLX runs only on Apple silicon under macOS"],
    actions: ["measure MLX exports on an Apple-silicon Mac; use llama.cpp or ONNX Runtime elsewhere"],
  },
  {
    framework: "mlx",
    symptom: "4-bit MLX model loses accuracy",
    causes: ["group size 64 or 128 is too coarse for this model"],
    actions: ["export with group size 32, or 8 bits"],
  },
]);
