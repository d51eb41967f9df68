/** Pure parsers for small Linux system files; each takes the file's text. */

/** /proc/meminfo values are in kB (really KiB). */
export function parseMeminfo(text: string): { totalMemoryBytes?: number; availableMemoryBytes?: number } {
  const kib = (key: string): number | undefined => {
    const match = new RegExp(`^${key}:\\s+(\\d+)\\s*kB`, "m").exec(text);
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
  };
  const total = kib("MemTotal");
  // Kernels before 3.14 lack MemAvailable; free + cached is the classic approximation.
  const available = kib("MemAvailable") ?? sumDefined(kib("MemFree"), kib("Cached"));
  return {
    ...(total !== undefined ? { totalMemoryBytes: total } : {}),
    ...(available !== undefined ? { availableMemoryBytes: available } : {}),
  };
}

function sumDefined(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a + b;
}

/** /etc/os-release: KEY=value lines, values optionally quoted. */
export function parseOsRelease(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!match?.[1] || match[2] === undefined) continue;
    values.set(match[1], match[2].replace(/^(["'])(.*)\1$/, "$2"));
  }
  return values;
}

/** sysfs cache sizes: "32K", "1024K", "2M", or plain bytes. */
export function parseCacheSizeBytes(text: string): number | undefined {
  const match = /^\s*(\d+)\s*([KMG]?)\s*$/i.exec(text);
  if (!match?.[1]) return undefined;
  const multiplier = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[(match[2] ?? "").toUpperCase()] ?? 1;
  return Number(match[1]) * multiplier;
}

/** CPU list syntax used by sysfs ("0-3,8,10-11") → how many CPUs it names. */
export function countCpuList(text: string): number {
  let count = 0;
  for (const part of text.trim().split(",")) {
    if (part === "") continue;
    const [start, end] = part.split("-").map(Number);
    if (start === undefined || !Number.isInteger(start)) continue;
    count += end !== undefined && Number.isInteger(end) ? end - start + 1 : 1;
  }
  return count;
}

/**
 * Physical cores = distinct sets of hardware-thread siblings (each core lists its SMT siblings),
 * which works on x86 and ARM alike, unlike /proc/cpuinfo's "core id".
 */
export function countPhysicalCores(threadSiblingsLists: readonly string[]): number {
  return new Set(threadSiblingsLists.map((list) => list.trim()).filter(Boolean)).size;
}

/** cgroup v2 cpu.max: "max 100000" (no quota) or "150000 100000" (1.5 CPUs). */
export function parseCgroupCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === undefined || quota === "max" || period === undefined) return undefined;
  const cpus = Number(quota) / Number(period);
  return Number.isFinite(cpus) && cpus > 0 ? cpus : undefined;
}

/** cgroup v2 memory.max: "max" or bytes. */
export function parseCgroupMemoryMax(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === "max" || !/^\d+$/.test(trimmed)) return undefined;
  return Number(trimmed);
}

/** `KEY=value` lines of a sysfs uevent file. */
export function parseUevent(text: string): Map<string, string> {
  return parseOsRelease(text);
}
