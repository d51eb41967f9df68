import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as OrtModule from "onnxruntime-node";
import { buildProbeModel, matchesProbeExpectation, probeModelInputA, probeModelInputB, probeModelLength } from "./build-probe-model.js";
import { errorMessage, type BackendProbe, type RuntimeProbe } from "./runtime-probe.js";

/** ORT's provider names as they appear in its profiler output, by the execution-provider name the API takes. */
const providerNames: Record<string, string> = {
  cpu: "CPUExecutionProvider",
  cuda: "CUDAExecutionProvider",
  tensorrt: "TensorrtExecutionProvider",
  webgpu: "WebGpuExecutionProvider",
  dml: "DmlExecutionProvider",
  coreml: "CoreMLExecutionProvider",
  xnnpack: "XnnpackExecutionProvider",
  qnn: "QNNExecutionProvider",
  openvino: "OpenVINOExecutionProvider",
  nnapi: "NnapiExecutionProvider",
};

/** Providers that ran graph nodes, from an ORT profile (JSON array of trace events). */
async function readProfileProviders(profileDir: string): Promise<string[]> {
  const providers = new Set<string>();
  for (const file of await readdir(profileDir)) {
    const events = JSON.parse(await readFile(join(profileDir, file), "utf8")) as Array<{ cat?: string; args?: { provider?: string } }>;
    for (const event of events) if (event.cat === "Node" && event.args?.provider) providers.add(event.args.provider);
  }
  return [...providers];
}

// Type-only: the engine itself is loaded lazily below.
type Ort = typeof OrtModule;

/** ORT assertion failures read "<source path>:<line> <function> <condition> was false. <message>"; keep the message. */
export function cleanOrtError(message: string): string {
  return /^\S+\.(?:cc|cpp|h):\d+ .*? was false\. (.+)$/s.exec(message)?.[1] ?? message;
}

async function probeProvider(ort: Ort, modelBytes: Uint8Array, provider: string, listed: boolean): Promise<BackendProbe> {
  const started = process.hrtime.bigint();
  const elapsedMs = () => Number(process.hrtime.bigint() - started) / 1e6;
  const profileDir = await mkdtemp(join(tmpdir(), "edgeforge-ort-probe-"));
  try {
    const session = await ort.InferenceSession.create(modelBytes, {
      executionProviders: [provider],
      enableProfiling: true,
      profileFilePrefix: join(profileDir, "probe"),
      // A graph optimizer may constant-fold or fuse; the probe wants the Add node placed as-is.
      graphOptimizationLevel: "disabled",
    });
    try {
      const feeds = {
        a: new ort.Tensor("float32", probeModelInputA, [probeModelLength]),
        b: new ort.Tensor("float32", probeModelInputB, [probeModelLength]),
      };
      const outputs = await session.run(feeds);
      session.endProfiling();
      const output = outputs.c?.data as Float32Array | undefined;
      const ranOn = await readProfileProviders(profileDir);
      const expectedProvider = providerNames[provider];
      const correct = output !== undefined && matchesProbeExpectation(output);
      const onRequested = expectedProvider === undefined || ranOn.includes(expectedProvider);
      const details = { ranOn, listedBySupportedBackends: listed };
      if (!correct) return { backend: provider, works: false, reason: "ran, but the probe's Add gave wrong values", durationMs: elapsedMs(), details };
      if (!onRequested) {
        const reason = `the session opened, but the probe node ran on ${ranOn.join(", ") || "no provider"} instead (silent fallback)`;
        return { backend: provider, works: false, reason, durationMs: elapsedMs(), details };
      }
      return { backend: provider, works: true, durationMs: elapsedMs(), details };
    } finally {
      await session.release();
    }
  } catch (error) {
    const reason = cleanOrtError(errorMessage(error));
    return { backend: provider, works: false, reason, durationMs: elapsedMs(), details: { listedBySupportedBackends: listed } };
  } finally {
    await rm(profileDir, { recursive: true, force: true });
  }
}

/** Open and run the probe model on every execution provider onnxruntime-node lists (and the CPU). */
export async function probeOnnxruntime(emit: (backend: BackendProbe) => void): Promise<RuntimeProbe> {
  const started = process.hrtime.bigint();
  const base = { runtime: "ort", framework: "onnxruntime", packageName: "onnxruntime-node" } as const;
  let ort: Ort;
  try {
    ort = await import("onnxruntime-node");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND";
    return {
      ...base,
      installed: !missing,
      available: false,
      reason: missing ? "onnxruntime-node is not installed" : `onnxruntime-node failed to load: ${errorMessage(error)}`,
      backends: [],
      details: {},
      durationMs: Number(process.hrtime.bigint() - started) / 1e6,
    };
  }
  const listed = ort.listSupportedBackends().map((backend) => backend.name);
  const modelBytes = buildProbeModel();
  const backends: BackendProbe[] = [];
  for (const provider of [...new Set(["cpu", ...listed])]) {
    const backend = await probeProvider(ort, modelBytes, provider, listed.includes(provider));
    backends.push(backend);
    emit(backend);
  }
  const available = backends.some((backend) => backend.works);
  return {
    ...base,
    installed: true,
    available,
    version: ort.env.versions.node ?? ort.env.versions.common,
    ...(available ? {} : { reason: "no execution provider ran the probe model" }),
    backends,
    details: { listedBackends: listed },
    durationMs: Number(process.hrtime.bigint() - started) / 1e6,
  };
}
