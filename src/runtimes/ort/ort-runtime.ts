import { stat } from "node:fs/promises";
import type * as OrtNamespace from "onnxruntime-node";
import type { InferenceSession } from "onnxruntime-node";
import { EdgeforgeError, fileError } from "../../core/errors.js";
import type { NamedTensors } from "../../core/tensor.js";
import type { RunOptions, Session, SessionDescription } from "../../core/session.js";
import type { RuntimeSettings } from "../runtime-settings.js";
import { createSessionWithFallback, type ProviderAttempt } from "./ort-providers.js";
import { fromOrtTensor, specsFromMetadata, toOrtTensor } from "./ort-tensors.js";

type OrtModule = typeof OrtNamespace;

/** Defaults applied when a setting is not given; recorded in the description either way. */
export const ortDefaults = {
  executionProviders: ["cpu"],
  graphOptimizationLevel: "all",
  executionMode: "sequential",
  enableCpuMemArena: true,
  enableMemPattern: true,
} as const;

export async function loadOrt(): Promise<OrtModule> {
  try {
    const module = (await import("onnxruntime-node")) as OrtModule & { default?: OrtModule };
    return module.default ?? module;
  } catch (error) {
    throw new EdgeforgeError("RUNTIME_UNAVAILABLE", `onnxruntime-node cannot be loaded: ${(error as Error).message}`, {
      hint: "reinstall dependencies (npm ci) on a platform onnxruntime-node supports",
      cause: error,
    });
  }
}

/** Open an ONNX model on onnxruntime-node with explicit provider fallback. */
export async function openOrtSession(modelPath: string, settings: RuntimeSettings = {}): Promise<Session> {
  try {
    await stat(modelPath);
  } catch (error) {
    throw fileError(error, modelPath, "read");
  }
  const ort = await loadOrt();
  const providers = settings.executionProviders ?? [...ortDefaults.executionProviders];
  const options: InferenceSession.SessionOptions = {
    graphOptimizationLevel: settings.graphOptimizationLevel ?? ortDefaults.graphOptimizationLevel,
    executionMode: settings.executionMode ?? ortDefaults.executionMode,
    enableCpuMemArena: settings.enableCpuMemArena ?? ortDefaults.enableCpuMemArena,
    enableMemPattern: settings.enableMemPattern ?? ortDefaults.enableMemPattern,
    // Fatal only: failed provider attempts are reported through the record, not ORT's console log.
    logSeverityLevel: 4,
    ...(settings.threads === undefined ? {} : { intraOpNumThreads: settings.threads }),
    ...(settings.interOpThreads === undefined ? {} : { interOpNumThreads: settings.interOpThreads }),
    ...(settings.prepackWeights === false ? { extra: { session: { disable_prepacking: "1" } } } : {}),
  };
  const selection = await createSessionWithFallback(ort, modelPath, providers, options);
  return adaptOrtSession(ort, selection.session, {
    requestedProviders: providers.map((p) => p.toLowerCase()),
    provider: selection.provider,
    attempts: selection.attempts,
    settings,
  });
}

export interface OrtSessionProvenance {
  requestedProviders: string[];
  provider: string;
  attempts: ProviderAttempt[];
  settings: RuntimeSettings;
}

/** Wrap an existing ORT session in the engine-neutral Session interface (the benchmark harness reuses this). */
export function adaptOrtSession(ort: OrtModule, session: InferenceSession, provenance: OrtSessionProvenance): Session {
  const inputs = specsFromMetadata(session.inputMetadata);
  const outputs = specsFromMetadata(session.outputMetadata);
  const { settings } = provenance;
  const description: SessionDescription = {
    runtime: "ort",
    runtimeVersion: ort.env.versions.node ?? ort.env.versions.common,
    executionProvider: provenance.provider,
    requestedProviders: provenance.requestedProviders,
    ...(settings.threads === undefined ? {} : { intraOpThreads: settings.threads }),
    ...(settings.interOpThreads === undefined ? {} : { interOpThreads: settings.interOpThreads }),
    inputs,
    outputs,
    settings: {
      graphOptimizationLevel: settings.graphOptimizationLevel ?? ortDefaults.graphOptimizationLevel,
      executionMode: settings.executionMode ?? ortDefaults.executionMode,
      enableCpuMemArena: settings.enableCpuMemArena ?? ortDefaults.enableCpuMemArena,
      enableMemPattern: settings.enableMemPattern ?? ortDefaults.enableMemPattern,
      ...(settings.prepackWeights === undefined ? {} : { prepackWeights: settings.prepackWeights }),
      providerAttempts: provenance.attempts,
    },
  };
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await session.release();
  };
  return {
    describe: () => description,
    async run(feeds: NamedTensors, options: RunOptions = {}): Promise<NamedTensors> {
      if (closed) throw new EdgeforgeError("RUNTIME_FAILED", "run() on a closed session", { hint: "open a new session" });
      options.signal?.throwIfAborted();
      const ortFeeds: Record<string, OrtNamespace.Tensor> = {};
      for (const [name, tensor] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(ort, name, tensor);
      let results: InferenceSession.ReturnType;
      try {
        results = options.outputNames ? await session.run(ortFeeds, options.outputNames) : await session.run(ortFeeds);
      } catch (error) {
        throw new EdgeforgeError("RUNTIME_FAILED", `onnxruntime run failed: ${(error as Error).message.split("\n")[0]}`, {
          hint: "check the input names, dtypes and shapes against the model (edgeforge inspect shows them)",
          details: { inputs: Object.fromEntries(Object.entries(feeds).map(([n, t]) => [n, { dtype: t.dtype, dims: t.dims }])) },
          cause: error,
        });
      }
      const out: NamedTensors = {};
      for (const [name, value] of Object.entries(results)) out[name] = fromOrtTensor(name, value as OrtNamespace.Tensor);
      return out;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
