import { recommendFrameworks } from "../hardware/recommend-frameworks.js";
import type { TargetProfile } from "../hardware/target-profile.js";
import type { ModelFacts } from "./plan-types.js";

export interface PassRuleContext {
  facts: ModelFacts;
  target: TargetProfile;
  hasCalibrationData: boolean;
  hasEvaluationData: boolean;
  /** node-mlx loads here (MLX candidates can be measured), or why not. */
  mlx: { loadsHere: true } | { loadsHere: false; reason: string };
  /** The passes the user asked for by name (--pass), if any. */
  askedFor?: readonly string[];
}

/** Why a pass is worth trying on this model and target, or why it is left out. */
export type PassVerdict = { applies: true; reason: string } | { applies: false; reason: string };

const int8DotFeatures = ["avx512_vnni", "avx_vnni", "amx_int8", "dotprod", "i8mm"];

function weightNodes(facts: ModelFacts, ops: readonly string[]): number {
  return ops.reduce((sum, op) => sum + (facts.weightNodesByOp[op] ?? 0), 0);
}

function int8Hardware(target: TargetProfile): string {
  const present = target.cpu.features.filter((feature) => int8DotFeatures.includes(feature));
  return present.length > 0 ? `; ${target.name} has ${present.join("/")} for int8 dot products` : "";
}

/** The seed's per-pass reasoning, as rules over inspection facts; passes not listed here apply whenever the formats match. */
export function judgePass(passId: string, context: PassRuleContext): PassVerdict {
  const { facts, target } = context;
  const linear = weightNodes(facts, ["MatMul", "Gemm", "Conv"]);
  const matmul = weightNodes(facts, ["MatMul", "Gemm"]);
  switch (passId) {
    case "onnx.convert.fp16":
      return facts.hasFloat32Weights
        ? { applies: true, reason: "fp16 halves weight bytes with little accuracy cost; speed depends on fp16 kernels (f16c/avx512_fp16/ARM fp16)" }
        : { applies: false, reason: "the model has no float32 weights to convert" };
    case "onnx.quantize.int8-dynamic": {
      // The pass's default op types: Conv as ConvInteger is opt-in (often slower on CPU than float).
      const dynamic = weightNodes(facts, ["MatMul", "Gemm", "LSTM"]);
      if (dynamic > 0) return { applies: true, reason: `int8 weights on ${dynamic} MatMul/Gemm/LSTM nodes (≈4× smaller), activations quantized at run time, no calibration needed${int8Hardware(target)}` };
      const conv = weightNodes(facts, ["Conv"]);
      return {
        applies: false,
        reason:
          conv > 0
            ? `int8-dynamic quantizes MatMul/Gemm/LSTM weights and the model has none; its ${conv} Conv nodes would run as ConvInteger, often slower than float on CPU, so int8-static (QDQ) is the convolutional path`
            : "no MatMul/Gemm/LSTM node has float constant weights (weights already int8 behind DequantizeLinear are done)",
      };
    }
    case "onnx.quantize.int8-static":
      if (linear === 0) return { applies: false, reason: "no MatMul/Gemm/Conv node has float constant weights (weights already int8 behind DequantizeLinear are done)" };
      return context.hasCalibrationData
        ? { applies: true, reason: `QDQ int8 with activation ranges calibrated on your data: the fastest int8 path in ONNX Runtime's CPU kernels${int8Hardware(target)}` }
        : { applies: false, reason: "static int8 needs calibration data (--calibration)" };
    case "onnx.quantize.int4":
      return matmul > 0
        ? { applies: true, reason: `4-bit blockwise weights on ${matmul} MatMul/Gemm nodes (MatMulNBits); pays off when MatMul weights dominate` }
        : { applies: false, reason: "int4 is weight-only for MatMul/Gemm, and the model has none with float constant weights" };
    case "onnx.quantize.auto":
      if (linear === 0) return { applies: false, reason: "no MatMul/Gemm/Conv node has float constant weights (weights already int8 behind DequantizeLinear are done)" };
    {
      // Calibrated on its own data, not on the evaluation set its accuracy is then measured on.
      const missing = [!context.hasCalibrationData && "calibration data (--calibration)", !context.hasEvaluationData && "evaluation data (--eval)"].filter((need) => need !== false);
      return missing.length === 0
        ? { applies: true, reason: "int8 with the most accuracy-sensitive nodes kept in float until the allowed drop is met" }
        : { applies: false, reason: `accuracy-aware quantization needs ${missing.join(" and ")}` };
    }
    case "mlx.export": {
      // The decision tree gives MLX a score only where it is at home: Apple silicon.
      const apple = (recommendFrameworks(target, { modelKind: "llm" }).find((f) => f.framework === "mlx")?.ruleScore ?? 0) > 0;
      const here = context.mlx.loadsHere ? "node-mlx loads here, so MLX candidates are measured on this machine's CPU" : `node-mlx does not load here (${context.mlx.reason}), so MLX candidates can only be produced and sized`;
      if (apple) return { applies: true, reason: `${target.name} is Apple silicon: MLX runs quantized LLMs on its GPU through Metal; ${here}` };
      if (context.mlx.loadsHere && context.askedFor?.includes("mlx.export")) return { applies: true, reason: `asked for with --pass; ${here}` };
      return {
        applies: false,
        reason: context.mlx.loadsHere ? `MLX is at home on Apple silicon only; ${here} when asked for (--pass mlx.export)` : `MLX is at home on Apple silicon only, and ${here.replace(", so MLX candidates can only be produced and sized", "")}`,
      };
    }
    case "hf.convert.gguf":
      return facts.modelKind === "llm"
        ? { applies: true, reason: "llama.cpp runs GGUF: the Hugging Face model is converted first" }
        : { applies: false, reason: "GGUF conversion applies to language models" };
    default:
      return { applies: true, reason: `applies to ${facts.format} models` };
  }
}
