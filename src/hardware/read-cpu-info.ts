import { availableParallelism, cpus } from "node:os";
import { featuresFromLinuxFlags, featuresFromSysctl } from "./cpu-features.js";
import type { CacheInfo, CpuInfo, CpuVendor } from "./hardware-report.js";
import { parseCpuinfo, type CpuinfoFacts } from "./parse-cpuinfo.js";
import { countCpuList, countPhysicalCores, parseCacheSizeBytes, parseCgroupCpuMax } from "./parse-system-files.js";
import { readOptionalDir, readOptionalText } from "./read-system-text.js";

const cpuRoot = "/sys/devices/system/cpu";

export interface CpuReadResult {
  cpu: CpuInfo;
  /** Board name some ARM kernels print in /proc/cpuinfo. */
  boardModel?: string;
  notes: string[];
}

async function readLinuxCaches(signal?: AbortSignal): Promise<CacheInfo[]> {
  const caches: CacheInfo[] = [];
  const indexDirs = (await readOptionalDir(`${cpuRoot}/cpu0/cache`)).filter((name) => /^index\d+$/.test(name));
  for (const indexDir of indexDirs) {
    const base = `${cpuRoot}/cpu0/cache/${indexDir}`;
    const [level, type, size, shared] = await Promise.all(
      ["level", "type", "size", "shared_cpu_list"].map((file) => readOptionalText(`${base}/${file}`, signal)),
    );
    const sizeBytes = size === undefined ? undefined : parseCacheSizeBytes(size);
    const levelNumber = Number(level);
    const kind = type?.trim().toLowerCase();
    if (sizeBytes === undefined || !Number.isInteger(levelNumber) || (kind !== "data" && kind !== "instruction" && kind !== "unified")) {
      continue;
    }
    caches.push({ level: levelNumber, type: kind, sizeBytes, ...(shared ? { sharedByThreads: countCpuList(shared) } : {}) });
  }
  return caches;
}

async function readLinuxPhysicalCores(signal?: AbortSignal): Promise<number | undefined> {
  // Offline CPUs have no topology folder; they are left out, as they are of /proc/cpuinfo.
  const cpuDirs = (await readOptionalDir(cpuRoot)).filter((name) => /^cpu\d+$/.test(name));
  const lists = await Promise.all(cpuDirs.map((dir) => readOptionalText(`${cpuRoot}/${dir}/topology/thread_siblings_list`, signal)));
  const known = lists.filter((list): list is string => list !== undefined);
  return known.length > 0 ? countPhysicalCores(known) : undefined;
}

export async function readLinuxCpuInfo(signal?: AbortSignal): Promise<CpuReadResult> {
  const notes: string[] = [];
  const cpuinfoText = await readOptionalText("/proc/cpuinfo", signal);
  const facts: CpuinfoFacts | undefined = cpuinfoText === undefined ? undefined : parseCpuinfo(cpuinfoText);
  if (facts === undefined) notes.push("/proc/cpuinfo is not readable: CPU model and SIMD features are unknown");
  const logicalThreads = facts?.processorCount || cpus().length;
  const physicalCores = (await readLinuxPhysicalCores(signal)) ?? facts?.physicalCores;
  if (physicalCores === undefined) notes.push("CPU topology is not exposed: physical core count is unknown");
  const caches = await readLinuxCaches(signal);
  if (caches.length === 0) notes.push(`${cpuRoot}/cpu0/cache is absent: cache sizes are unknown`);
  const cpuMax = await readOptionalText("/sys/fs/cgroup/cpu.max", signal);
  const cgroupCpuQuota = cpuMax === undefined ? undefined : parseCgroupCpuMax(cpuMax);
  return {
    cpu: {
      architecture: process.arch,
      vendor: facts?.vendor ?? "unknown",
      model: facts?.model ?? cpus()[0]?.model ?? "unknown",
      physicalCores: physicalCores ?? "unknown",
      logicalThreads,
      availableThreads: availableParallelism(),
      ...(cgroupCpuQuota !== undefined ? { cgroupCpuQuota } : {}),
      features: facts ? featuresFromLinuxFlags(facts.flags) : [],
      featureSource: facts ? "/proc/cpuinfo" : "unknown",
      caches,
    },
    ...(facts?.boardModel ? { boardModel: facts.boardModel } : {}),
    notes,
  };
}

function darwinVendor(brand: string | undefined): CpuVendor {
  if (brand === undefined) return "unknown";
  if (brand.startsWith("Apple")) return "apple";
  if (brand.includes("Intel")) return "intel";
  return "other";
}

/** macOS: everything comes from one `sysctl hw machdep.cpu` run, parsed by the caller. */
export function cpuInfoFromSysctl(values: ReadonlyMap<string, string>): CpuInfo {
  const numberOf = (key: string): number | undefined => {
    const value = values.get(key);
    return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
  };
  // Apple silicon reports caches per performance level; perflevel0 is the performance cluster.
  const cacheEntries: Array<[number, CacheInfo["type"], number | undefined]> = [
    [1, "data", numberOf("hw.perflevel0.l1dcachesize") ?? numberOf("hw.l1dcachesize")],
    [1, "instruction", numberOf("hw.perflevel0.l1icachesize") ?? numberOf("hw.l1icachesize")],
    [2, "unified", numberOf("hw.perflevel0.l2cachesize") ?? numberOf("hw.l2cachesize")],
    [3, "unified", numberOf("hw.l3cachesize")],
  ];
  const brand = values.get("machdep.cpu.brand_string");
  const features = featuresFromSysctl(values);
  const logicalThreads = numberOf("hw.logicalcpu") ?? cpus().length;
  return {
    architecture: process.arch,
    vendor: darwinVendor(brand),
    model: brand ?? cpus()[0]?.model ?? "unknown",
    physicalCores: numberOf("hw.physicalcpu") ?? "unknown",
    logicalThreads,
    availableThreads: availableParallelism(),
    features,
    featureSource: values.size > 0 ? "sysctl" : "unknown",
    caches: cacheEntries.flatMap(([level, type, sizeBytes]) => (sizeBytes ? [{ level, type, sizeBytes }] : [])),
  };
}

/** Other platforms: what Node itself knows. */
export function cpuInfoFromNode(): CpuInfo {
  return {
    architecture: process.arch,
    vendor: "unknown",
    model: cpus()[0]?.model ?? "unknown",
    physicalCores: "unknown",
    logicalThreads: cpus().length,
    availableThreads: availableParallelism(),
    features: [],
    featureSource: "unknown",
    caches: [],
  };
}
