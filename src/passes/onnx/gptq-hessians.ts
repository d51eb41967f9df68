import type { OnnxModelFile } from "../../formats/onnx/read-onnx.js";
import { accumulateHessian, createHessian, type InputHessian } from "../../kernels/gptq.js";
import type { PassContext } from "../pass.js";
import { captureActivations } from "./activation-capture.js";
import type { CandidateNode } from "./candidate-nodes.js";

export interface GptqHessians {
  /** Keyed by the MatMul input (activation) name; main-graph nodes only. */
  byInput: Map<string, InputHessian>;
  sampleCount: number;
}

/** Run the calibration data once and accumulate Σ xᵀx for the input of every main-graph MatMul/Gemm. */
export async function collectGptqHessians(file: OnnxModelFile, candidates: readonly CandidateNode[], context: PassContext): Promise<GptqHessians> {
  const inputs = [...new Set(candidates.filter((c) => c.scopePath === "").map((c) => c.node.input[0]!))];
  const byInput = new Map<string, InputHessian>();
  const run = await captureActivations(file.model, inputs, context.calibrationData, context, (values) => {
    for (const name of inputs) {
      const tensor = values[name];
      if (!tensor || tensor.dtype !== "float32") continue;
      const k = tensor.dims[tensor.dims.length - 1] ?? 1;
      let hessian = byInput.get(name);
      if (!hessian) {
        hessian = createHessian(k);
        byInput.set(name, hessian);
      }
      accumulateHessian(hessian, tensor.data as Float32Array);
    }
  }, "gptq calibration");
  return { byInput, sampleCount: run.samples };
}
