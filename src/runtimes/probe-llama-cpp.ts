import type * as NodeLlamaCppModule from "node-llama-cpp";
import { errorMessage, type BackendProbe, type ProbeDetails, type RuntimeProbe } from "./runtime-probe.js";

// Type-only: the engine itself is loaded lazily below.
type NodeLlamaCpp = typeof NodeLlamaCppModule;
type GpuType = "cuda" | "vulkan" | "metal";
const gpuTypes: readonly GpuType[] = ["cuda", "vulkan", "metal"];

async function probeGpu(
  llamaCpp: NodeLlamaCpp,
  gpu: GpuType,
  validTypes: readonly unknown[],
  supportedTypes: readonly unknown[],
  takeConsoleLines: () => string[],
): Promise<BackendProbe> {
  const started = process.hrtime.bigint();
  const elapsedMs = () => Number(process.hrtime.bigint() - started) / 1e6;
  if (!validTypes.includes(gpu)) {
    return { backend: gpu, works: false, reason: `${gpu} is not available for ${process.platform}-${process.arch}`, durationMs: elapsedMs() };
  }
  // Loading a GPU build costs about a second; without its driver and libraries it cannot load.
  if (!supportedTypes.includes(gpu)) {
    return { backend: gpu, works: false, reason: `no ${gpu} driver or libraries found on this machine`, durationMs: elapsedMs() };
  }
  try {
    const llama = await llamaCpp.getLlama({ build: "never", gpu, logLevel: llamaCpp.LlamaLogLevel.error });
    try {
      if (llama.gpu !== gpu) return { backend: gpu, works: false, reason: `loaded the ${String(llama.gpu)} build instead`, durationMs: elapsedMs() };
      const vram = await llama.getVramState();
      const details: ProbeDetails = { deviceNames: await llama.getGpuDeviceNames(), vramTotalBytes: vram.total };
      return { backend: gpu, works: true, durationMs: elapsedMs(), details };
    } finally {
      await llama.dispose();
    }
  } catch (error) {
    const said = takeConsoleLines().filter(Boolean);
    const base = `the prebuilt ${gpu} binary did not load (${errorMessage(error)})`;
    return { backend: gpu, works: false, reason: said.length > 0 ? `${base}: ${said.join("; ")}` : base, durationMs: elapsedMs() };
  }
}

async function probeCpuBuild(llamaCpp: NodeLlamaCpp, takeConsoleLines: () => string[]): Promise<{ backend: BackendProbe; details: ProbeDetails }> {
  const started = process.hrtime.bigint();
  const elapsedMs = () => Number(process.hrtime.bigint() - started) / 1e6;
  try {
    const llama = await llamaCpp.getLlama({ build: "never", gpu: false, logLevel: llamaCpp.LlamaLogLevel.error });
    const details: ProbeDetails = {
      buildType: llama.buildType,
      llamaCppRelease: llama.llamaCppRelease.release,
      systemInfo: llama.systemInfo.trim(),
      cpuMathCores: llama.cpuMathCores,
    };
    await llama.dispose();
    return { backend: { backend: "cpu", works: true, durationMs: elapsedMs() }, details };
  } catch (error) {
    const reason = [errorMessage(error), ...takeConsoleLines()].join(": ");
    return { backend: { backend: "cpu", works: false, reason, durationMs: elapsedMs() }, details: {} };
  }
}

/**
 * Load node-llama-cpp's CPU build (never building from source), then try each GPU build it could use
 * here. It explains binary incompatibility only on the console, so the caller captures console lines
 * and hands them over through `takeConsoleLines`.
 */
export async function probeLlamaCpp(emit: (backend: BackendProbe) => void, takeConsoleLines: () => string[]): Promise<RuntimeProbe> {
  const started = process.hrtime.bigint();
  const base = { runtime: "llama-cpp", framework: "llama.cpp", packageName: "node-llama-cpp" } as const;
  const durationMs = () => Number(process.hrtime.bigint() - started) / 1e6;
  let llamaCpp: NodeLlamaCpp;
  try {
    llamaCpp = await import("node-llama-cpp");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND";
    const reason = missing ? "node-llama-cpp is not installed" : `node-llama-cpp failed to load: ${errorMessage(error)}`;
    return { ...base, installed: !missing, available: false, reason, backends: [], details: {}, durationMs: durationMs() };
  }
  const version = await llamaCpp.getModuleVersion();
  const { backend: cpuBackend, details } = await probeCpuBuild(llamaCpp, takeConsoleLines);
  const backends: BackendProbe[] = [cpuBackend];
  emit(cpuBackend);
  const validTypes = await llamaCpp.getLlamaGpuTypes("allValid");
  const supportedTypes = await llamaCpp.getLlamaGpuTypes("supported");
  for (const gpu of gpuTypes) {
    takeConsoleLines();
    const backend = await probeGpu(llamaCpp, gpu, validTypes, supportedTypes, takeConsoleLines);
    backends.push(backend);
    emit(backend);
  }
  const available = backends.some((backend) => backend.works);
  return {
    ...base,
    installed: true,
    available,
    version,
    ...(available ? {} : { reason: "no llama.cpp build loaded" }),
    backends,
    details,
    durationMs: durationMs(),
  };
}
