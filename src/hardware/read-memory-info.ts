import { freemem, totalmem } from "node:os";
import type { MemoryInfo } from "./hardware-report.js";
import { parseCgroupMemoryMax, parseMeminfo } from "./parse-system-files.js";
import { readOptionalText } from "./read-system-text.js";

export async function readLinuxMemoryInfo(signal?: AbortSignal): Promise<{ memory: MemoryInfo; notes: string[] }> {
  const notes: string[] = [];
  const meminfoText = await readOptionalText("/proc/meminfo", signal);
  const meminfo = meminfoText === undefined ? {} : parseMeminfo(meminfoText);
  if (meminfo.totalMemoryBytes === undefined) notes.push("/proc/meminfo is not readable: memory figures come from Node (os.freemem)");
  const totalMemoryBytes = meminfo.totalMemoryBytes ?? totalmem();
  let availableMemoryBytes = meminfo.availableMemoryBytes ?? freemem();

  const limitText = await readOptionalText("/sys/fs/cgroup/memory.max", signal);
  const cgroupLimitBytes = limitText === undefined ? undefined : parseCgroupMemoryMax(limitText);
  if (cgroupLimitBytes !== undefined && cgroupLimitBytes < totalMemoryBytes) {
    const usedText = await readOptionalText("/sys/fs/cgroup/memory.current", signal);
    const usedBytes = usedText === undefined ? 0 : Number(usedText.trim()) || 0;
    availableMemoryBytes = Math.min(availableMemoryBytes, Math.max(0, cgroupLimitBytes - usedBytes));
    notes.push("a cgroup memory limit applies: available memory is capped by it");
  }
  return {
    memory: {
      totalMemoryBytes,
      availableMemoryBytes,
      ...(cgroupLimitBytes !== undefined && cgroupLimitBytes < totalMemoryBytes ? { cgroupLimitBytes } : {}),
      source: meminfo.totalMemoryBytes === undefined ? "os" : "/proc/meminfo",
    },
    notes,
  };
}

export function memoryInfoFromSysctl(values: ReadonlyMap<string, string>): { memory: MemoryInfo; notes: string[] } {
  const memsize = Number(values.get("hw.memsize"));
  const fromSysctl = Number.isFinite(memsize) && memsize > 0;
  return {
    memory: { totalMemoryBytes: fromSysctl ? memsize : totalmem(), availableMemoryBytes: freemem(), source: fromSysctl ? "sysctl" : "os" },
    // macOS counts only truly free pages as free; reclaimable cache makes the real figure higher.
    notes: ["macOS reports free pages only: available memory is a lower bound"],
  };
}

export function memoryInfoFromNode(): { memory: MemoryInfo; notes: string[] } {
  return { memory: { totalMemoryBytes: totalmem(), availableMemoryBytes: freemem(), source: "os" }, notes: [] };
}
