import { edgeforgeVersion } from "../core/edgeforge-version.js";
import { readPackageVersion } from "../runtimes/package-version.js";

/**
 * Versions that can change a pass's output bytes; part of every cache key, so upgrading
 * edgeforge, ONNX Runtime (calibration), llama.cpp (quantization) or sharp (the images calibration
 * reads are decoded and resized by it) invalidates old entries.
 */
export async function readToolVersions(): Promise<Record<string, string>> {
  const [ort, llama, sharp] = await Promise.all([readPackageVersion("onnxruntime-node"), readPackageVersion("node-llama-cpp"), readPackageVersion("sharp")]);
  return { edgeforge: edgeforgeVersion, "onnxruntime-node": ort ?? "absent", "node-llama-cpp": llama ?? "absent", sharp: sharp ?? "absent" };
}
