import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildProbeModel, probeModelInputA, probeModelInputB } from "./build-probe-model.js";
import type { RuntimeId } from "./catalog.js";
import { loadLlamaCppEngine } from "./llama-cpp/llama-cpp-runtime.js";
import { openOrtSession } from "./ort/ort-runtime.js";
import type { RuntimeSettings } from "./runtime-settings.js";

/**
 * Load a runtime with the same settings and run a trivial model (ORT: the one-Add probe graph;
 * llama.cpp: the native library loaded, no model), so a process's peak RSS after this is the
 * runtime's fixed cost. Subtracting it from a measuring child's peak leaves what the model costs.
 */
export async function runReferenceWorkload(runtime: RuntimeId, settings: RuntimeSettings): Promise<string> {
  if (runtime === "llama-cpp") {
    await loadLlamaCppEngine();
    return "llama.cpp native library loaded, no model";
  }
  if (runtime !== "ort") return `no reference workload for ${runtime}: the process only started Node`;
  const folder = await mkdtemp(join(tmpdir(), "edgeforge-reference-"));
  try {
    const path = join(folder, "probe.onnx");
    await writeFile(path, buildProbeModel());
    const session = await openOrtSession(path, settings);
    try {
      await session.run({ a: { dtype: "float32", dims: [4], data: probeModelInputA }, b: { dtype: "float32", dims: [4], data: probeModelInputB } });
    } finally {
      await session.close();
    }
    return "onnxruntime session with the same settings on a one-Add graph, run once";
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
