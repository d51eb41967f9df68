import type { OnnxInspection } from "../formats/onnx/inspect-onnx.js";

/** Ops that only appear in a quantized ONNX graph (ONNX's and onnxruntime's com.microsoft ones). */
const int8Ops = new Set([
  "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "MatMulInteger", "ConvInteger", "QLinearConv", "QLinearMatMul",
  "QLinearAdd", "QLinearMul", "QLinearSigmoid", "QLinearLeakyRelu", "QLinearAveragePool", "QLinearGlobalAveragePool", "QLinearConcat",
  "QLinearSoftmax", "QLinearConvTranspose", "QGemm", "DynamicQuantizeMatMul", "DynamicQuantizeLSTM", "QAttention",
]);

export interface OnnxOperatorSet {
  domain: string;
  opset: number;
  ops: string[];
}

/** The operators the model uses, grouped by domain with the opset it imports. */
export function requiredOnnxOperators(inspection: OnnxInspection): OnnxOperatorSet[] {
  const byDomain = new Map<string, Set<string>>();
  for (const { op } of inspection.ops) {
    const dot = op.lastIndexOf(".");
    const domain = dot < 0 ? "ai.onnx" : op.slice(0, dot);
    const name = dot < 0 ? op : op.slice(dot + 1);
    byDomain.set(domain, (byDomain.get(domain) ?? new Set()).add(name));
  }
  const opsetOf = (domain: string): number => inspection.opsetImports.find((o) => (o.domain === "" ? "ai.onnx" : o.domain) === domain)?.version ?? 1;
  return [...byDomain.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([domain, ops]) => ({ domain, opset: opsetOf(domain), ops: [...ops].sort() }));
}

/**
 * ONNX Runtime's reduced-build operator config (`--include_ops_by_config` of its build script):
 * one `domain;opset;Op1,Op2` line per domain, `#` comments.
 */
export function renderOrtOperatorConfig(sets: readonly OnnxOperatorSet[], modelName: string): string {
  return [`# Operators ${modelName} needs, for a reduced-size ONNX Runtime build:`, "#   ./build.sh --minimal_build --include_ops_by_config required_operators.config", ...sets.map((s) => `${s.domain};${s.opset};${s.ops.join(",")}`), ""].join("\n");
}

/** "int8" when quantize/dequantize or integer kernels are present, "int4" for MatMulNBits, else the weights' float type. */
export function onnxQuantizationOf(inspection: OnnxInspection): string {
  const names = new Set(inspection.ops.map(({ op }) => op.slice(op.lastIndexOf(".") + 1)));
  if (names.has("MatMulNBits")) return "int4";
  if ([...names].some((name) => int8Ops.has(name))) return "int8";
  return inspection.byDtype[0]?.dtype ?? "float";
}
