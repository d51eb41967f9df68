import type { ShapeOverrides } from "../core/shapes.js";
import { detectModelFormat } from "../formats/detect-format.js";
import { inspectGguf, type GgufInspection } from "../formats/gguf/inspect-gguf.js";
import { inspectLlama2c, type Llama2cInspection } from "../formats/llama2c/inspect-llama2c.js";
import { inspectOnnx, type OnnxInspection } from "../formats/onnx/inspect-onnx.js";
import { inspectSafetensors, type SafetensorsInspection } from "../formats/safetensors/inspect-safetensors.js";
import { assessFit, type FitAssessment } from "../hardware/assess-fit.js";
import { getTarget } from "./hardware.js";

export type ModelInspection = OnnxInspection | GgufInspection | SafetensorsInspection | Llama2cInspection;

export interface InspectOptions {
  /** Fix symbolic input dimensions for MAC estimates (ONNX), e.g. `{ x: [1, 3, 48, 320] }`. */
  shapes?: ShapeOverrides;
  /** Context length for KV-cache and RAM estimates (LLMs); default: the model's own. */
  contextLength?: number;
  /** A target profile name (or "local") to check whether the model fits. */
  target?: string;
  signal?: AbortSignal;
}

/** Versioned so `--json` consumers can rely on the shape; documented in docs/assess.md. */
export interface InspectReport {
  schemaVersion: 1;
  model: ModelInspection;
  fit?: FitAssessment;
}

/** Describe a model without loading any inference engine: headers and graph only. */
export async function inspect(path: string, options: InspectOptions = {}): Promise<InspectReport> {
  const { format } = await detectModelFormat(path);
  const model = await inspectByFormat(path, format, options);
  const report: InspectReport = { schemaVersion: 1, model };
  if (options.target !== undefined) {
    report.fit = assessFit(model, await getTarget(options.target));
  }
  return report;
}

function inspectByFormat(path: string, format: string, options: InspectOptions): Promise<ModelInspection> {
  const { signal, contextLength, shapes } = options;
  switch (format) {
    case "onnx":
      return inspectOnnx(path, { shapes, signal });
    case "gguf":
      return inspectGguf(path, { contextLength, signal });
    case "llama2c":
      return inspectLlama2c(path, { contextLength });
    default:
      return inspectSafetensors(path, { contextLength, signal });
  }
}
