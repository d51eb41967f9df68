import { hashSha256, stableStringify } from "../core/hashing.js";
import type { HardwareReport } from "./hardware-report.js";

/** The machine a measurement ran on, as reports record it. */
export interface MachineSummary {
  cpu: string;
  architecture: string;
  logicalThreads: number;
  physicalCores?: number;
  totalMemoryBytes: number;
  os: string;
  node: string;
}

export function summarizeMachine(hardware: HardwareReport): MachineSummary {
  return {
    cpu: hardware.cpu.model === "unknown" ? hardware.cpu.architecture : hardware.cpu.model,
    architecture: hardware.cpu.architecture,
    logicalThreads: hardware.cpu.logicalThreads,
    ...(hardware.cpu.physicalCores === "unknown" ? {} : { physicalCores: hardware.cpu.physicalCores }),
    totalMemoryBytes: hardware.memory.totalMemoryBytes,
    os: hardware.os.distro === "unknown" ? `${hardware.os.platform} ${hardware.os.release}` : hardware.os.distro,
    node: process.version,
  };
}

/**
 * 16 hex digits naming the hardware a figure was measured on: CPU, architecture, threads, memory, OS.
 * The Node version is left out (it changes the runtime, not the machine).
 */
export function machineFingerprint(machine: Omit<MachineSummary, "node"> & { node?: string }): string {
  const { cpu, architecture, logicalThreads, totalMemoryBytes, os } = machine;
  return hashSha256(stableStringify({ cpu, architecture, logicalThreads, totalMemoryBytes, os })).slice(0, 16);
}
