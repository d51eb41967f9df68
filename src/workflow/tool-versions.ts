import { readFile } from "node:fs/promises";
import { readPackageVersion } from "../runtimes/package-version.js";

/** This package's version; package.json sits two levels above src/workflow and dist/workflow. */
export async function readEdgeforgeVersion(): Promise<string> {
  const manifest = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return manifest.version;
}

/**
 * Versions that can change a pass's output bytes; part of every cache key, so upgrading
 * edgeforge, ONNX Runtime (calibration), llama.cpp (quantization) or sharp (the images calibration
 * reads are decoded and resized by it) invalidates old entries.
 */
export async function readToolVersions(): Promise<Record<string, string>> {
  const [edgeforge, ort, llama, sharp] = await Promise.all([readEdgeforgeVersion(), readPackageVersion("onnxruntime-node"), readPackageVersion("node-llama-cpp"), readPackageVersion("sharp")]);
  return { edgeforge, "onnxruntime-node": ort ?? "absent", "node-llama-cpp": llama ?? "absent", sharp: sharp ?? "absent" };
}
