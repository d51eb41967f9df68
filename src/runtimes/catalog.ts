import type { ModelFormat } from "../core/artifact.js";
import { EdgeforgeError } from "../core/errors.js";
import type { Session } from "../core/session.js";
import { readPackageVersion } from "./package-version.js";
import type { RuntimeSettings } from "./runtime-settings.js";

/** Whether a runtime's native package loads here, and its version or the reason it does not. */
export interface RuntimeAvailability {
  available: boolean;
  version?: string;
  reason?: string;
}

async function probe(packageName: string, load: () => Promise<unknown>): Promise<RuntimeAvailability> {
  try {
    await load();
    const version = await readPackageVersion(packageName);
    return { available: true, ...(version ? { version } : {}) };
  } catch (error) {
    return { available: false, reason: error instanceof Error ? error.message.split("\n")[0] : String(error) };
  }
}

/**
 * The engines edgeforge can run, each loaded lazily: nothing native is imported until a session
 * is opened or availability is probed. `load` imports the implementation module.
 */
export const runtimeCatalog = Object.freeze({
  ort: Object.freeze({
    description: "onnxruntime-node: CPU, with explicit fallback through other execution providers the build offers",
    formats: Object.freeze(["onnx"] as const satisfies readonly ModelFormat[]),
    load: () => import("./ort/ort-runtime.js"),
    open: async (modelPath: string, settings: RuntimeSettings) => (await import("./ort/ort-runtime.js")).openOrtSession(modelPath, settings),
    detect: () => probe("onnxruntime-node", async () => (await import("./ort/ort-runtime.js")).loadOrt()),
  }),
  "llama-cpp": Object.freeze({
    description: "node-llama-cpp (prebuilt llama.cpp, CPU): GGUF language models; inputs {tokens: int32} → outputs {logits}",
    formats: Object.freeze(["gguf"] as const satisfies readonly ModelFormat[]),
    load: () => import("./llama-cpp/llama-cpp-runtime.js"),
    open: async (modelPath: string, settings: RuntimeSettings) =>
      (await import("./llama-cpp/llama-cpp-runtime.js")).openLlamaCppSession(modelPath, settings),
    detect: () => probe("node-llama-cpp", () => import("node-llama-cpp")),
  }),
  mlx: Object.freeze({
    description: "node-mlx (@frost-beta/mlx, optional; MLX on CPU): MLX llama folders; inputs {tokens: int32} → outputs {logits}, one forward pass per run",
    formats: Object.freeze(["mlx"] as const satisfies readonly ModelFormat[]),
    load: () => import("./mlx/mlx-runtime.js"),
    open: async (modelPath: string, _settings: RuntimeSettings) => (await import("./mlx/mlx-runtime.js")).openMlxSession(modelPath),
    detect: () => probe("@frost-beta/mlx", async () => (await import("./mlx/mlx-runtime.js")).loadMlx()),
  }),
  openvino: Object.freeze({
    description: "openvino-node: used only when the optional openvino-node package is installed and loads",
    formats: Object.freeze(["onnx"] as const satisfies readonly ModelFormat[]),
    load: () => import("./openvino/openvino-runtime.js"),
    open: async (modelPath: string, settings: RuntimeSettings) =>
      (await import("./openvino/openvino-runtime.js")).openOpenVinoSession(modelPath, settings),
    detect: () => probe("openvino-node", async () => (await import("./openvino/openvino-runtime.js")).loadOpenVino()),
  }),
});

export type RuntimeId = keyof typeof runtimeCatalog;

export const runtimeIds = Object.freeze(Object.keys(runtimeCatalog) as RuntimeId[]);

export function isRuntimeId(value: string): value is RuntimeId {
  return Object.hasOwn(runtimeCatalog, value);
}

export function requireRuntimeId(value: string): RuntimeId {
  if (isRuntimeId(value)) return value;
  throw new EdgeforgeError("INVALID_OPTION", `unknown runtime "${value}"`, {
    hint: `runtimes: ${runtimeIds.join(", ")}`,
    details: { runtime: value },
  });
}

/** The default runtime for a format (the first catalog entry that reads it). */
export function runtimeForFormat(format: ModelFormat): RuntimeId {
  const id = runtimeIds.find((candidate) => (runtimeCatalog[candidate].formats as readonly ModelFormat[]).includes(format));
  if (!id) {
    // Checkpoints (a Hugging Face folder, llama2.c) have a converter; other formats need their own exporter.
    const convert = format === "safetensors" || format === "llama2c" ? "convert it first (`edgeforge convert MODEL --to gguf`)" : "convert the model first";
    throw new EdgeforgeError("UNSUPPORTED_FEATURE", `no runtime runs ${format} models`, {
      hint: `${convert}; runtimes read: ${runtimeIds.map((r) => `${r} (${runtimeCatalog[r].formats.join(", ")})`).join(", ")}`,
      details: { format },
    });
  }
  return id;
}

/** Open a session on a named runtime, checking that it reads the model's format. */
export async function openRuntimeSession(runtime: RuntimeId, modelPath: string, format: ModelFormat, settings: RuntimeSettings = {}): Promise<Session> {
  const entry = runtimeCatalog[runtime];
  if (!(entry.formats as readonly ModelFormat[]).includes(format)) {
    throw new EdgeforgeError("INVALID_OPTION", `runtime ${runtime} does not run ${format} models`, {
      hint: `${runtime} reads ${entry.formats.join(", ")}; use --runtime ${runtimeForFormat(format)}`,
      details: { runtime, format },
    });
  }
  return entry.open(modelPath, settings);
}
