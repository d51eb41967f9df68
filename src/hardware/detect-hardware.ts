import { release } from "node:os";
import { parseSysctl } from "./cpu-features.js";
import type { HardwareReport } from "./hardware-report.js";
import { appleSiliconAccelerators, gpusFromNvidiaSmi, readDrmGpus, readLinuxNpus, spawnNvidiaSmi } from "./read-accelerators.js";
import { cpuInfoFromNode, cpuInfoFromSysctl, readLinuxCpuInfo } from "./read-cpu-info.js";
import { energyCountersFromNvidiaSmi, readRaplCounters } from "./read-energy-counters.js";
import { memoryInfoFromNode, memoryInfoFromSysctl, readLinuxMemoryInfo } from "./read-memory-info.js";
import { osInfoFromSysctl, readLinuxOsInfo } from "./read-os-info.js";
import { spawnCapture } from "../core/spawn-capture.js";

export interface DetectHardwareOptions {
  signal?: AbortSignal;
}

async function detectLinuxHardware(signal?: AbortSignal): Promise<HardwareReport> {
  const [os, cpuRead, memoryRead, nvidiaSmi, drmGpus, npus, rapl] = await Promise.all([
    readLinuxOsInfo(signal),
    readLinuxCpuInfo(signal),
    readLinuxMemoryInfo(signal),
    spawnNvidiaSmi(signal),
    readDrmGpus(signal),
    readLinuxNpus(signal),
    readRaplCounters(signal),
  ]);
  const notes = [...cpuRead.notes, ...memoryRead.notes];
  if (os.machineModel === "unknown" && cpuRead.boardModel) os.machineModel = cpuRead.boardModel;
  const smiGpus = gpusFromNvidiaSmi(nvidiaSmi.gpus);
  // nvidia-smi knows more about NVIDIA cards than sysfs does; keep DRM entries for everything else.
  const gpus = [...smiGpus, ...drmGpus.filter((gpu) => !(smiGpus.length > 0 && gpu.vendor === "nvidia"))];
  if (gpus.length === 0) notes.push(`no GPU found (no /dev/dri render node; ${nvidiaSmi.reason ?? "nvidia-smi listed none"})`);
  const energyCounters = [...rapl, ...energyCountersFromNvidiaSmi(nvidiaSmi.gpus)];
  if (rapl.length === 0) notes.push("no RAPL energy counters (/sys/class/powercap/intel-rapl:* absent): CPU energy cannot be measured");
  return { os, cpu: cpuRead.cpu, memory: memoryRead.memory, gpus, npus, energyCounters, notes };
}

async function detectDarwinHardware(signal?: AbortSignal): Promise<HardwareReport> {
  const sysctl = await spawnCapture("sysctl", ["hw", "machdep.cpu", "kern.osproductversion"], {
    timeoutMs: 4000,
    ...(signal ? { signal } : {}),
  });
  // sysctl exits non-zero when one name is unknown but still prints the others.
  const values = parseSysctl(sysctl.stdout);
  const cpu = cpuInfoFromSysctl(values);
  const memoryRead = memoryInfoFromSysctl(values);
  const appleSilicon = process.arch === "arm64" && cpu.vendor === "apple";
  const accelerators = appleSilicon && cpu.model !== "unknown" ? appleSiliconAccelerators(cpu.model) : { gpus: [], npus: [] };
  const notes = [...memoryRead.notes, "energy counters on macOS need `sudo powermetrics`; none are read"];
  if (!sysctl.ok) notes.push(`sysctl: ${sysctl.reason}`);
  if (!appleSilicon) notes.push("Intel Macs: GPUs are not detected (only Apple silicon GPUs are read from sysctl), so GPUs are unknown");
  return { os: osInfoFromSysctl(values), cpu, memory: memoryRead.memory, ...accelerators, energyCounters: [], notes };
}

function detectOtherHardware(): HardwareReport {
  return {
    os: { platform: process.platform, release: release(), distro: "unknown", machineModel: "unknown" },
    cpu: cpuInfoFromNode(),
    memory: memoryInfoFromNode().memory,
    gpus: [],
    npus: [],
    energyCounters: [],
    notes: [`detailed detection is implemented for Linux and macOS; on ${process.platform} only Node's figures are known`],
  };
}

/** Assess this machine: OS, CPU and SIMD features, caches, memory, GPUs, NPUs and energy counters. Never throws for missing facts. */
export async function detectHardware(options: DetectHardwareOptions = {}): Promise<HardwareReport> {
  options.signal?.throwIfAborted();
  if (process.platform === "linux") return detectLinuxHardware(options.signal);
  if (process.platform === "darwin") return detectDarwinHardware(options.signal);
  return detectOtherHardware();
}
