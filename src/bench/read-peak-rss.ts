import { readFile } from "node:fs/promises";

export interface PeakRss {
  bytes: number;
  /** VmHWM from /proc/self/status (Linux), else getrusage's maxRSS. */
  source: "VmHWM" | "maxRSS";
}

/** Parse the VmHWM line of a /proc/<pid>/status text ("VmHWM:\t  2052 kB"). */
export function parseVmHwmBytes(status: string): number | undefined {
  const match = /^VmHWM:\s*(\d+)\s*kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

/** The process's peak resident set size so far. */
export async function readPeakRss(): Promise<PeakRss> {
  try {
    const bytes = parseVmHwmBytes(await readFile("/proc/self/status", "utf8"));
    if (bytes !== undefined) return { bytes, source: "VmHWM" };
  } catch {
    // not Linux: fall through to getrusage
  }
  return { bytes: process.resourceUsage().maxRSS * 1024, source: "maxRSS" };
}
