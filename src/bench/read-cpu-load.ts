import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";

/** How busy the machine's CPUs were just before a measurement, and what that leaves for it. */
export interface CpuLoad {
  cores: number;
  /** 1-minute load average (/proc/loadavg); undefined off Linux. */
  loadAverage1m?: number;
  /** Cores kept busy by other work over the sample window (/proc/stat); undefined off Linux. */
  busyCores?: number;
  /** Whole cores left for the measurement: cores − ceil(busy − 0.25), at least 1. */
  freeCores: number;
  /** Other work already occupies at least half the cores: absolute figures will be slow and noisy. */
  oversubscribed: boolean;
  sampleMs: number;
}

export interface CpuTimes {
  busy: number;
  total: number;
}

/** Aggregate jiffies from the first line of /proc/stat ("cpu  user nice system idle iowait irq softirq steal …"). */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) return undefined;
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (fields.length < 5 || fields.some((f) => !Number.isFinite(f))) return undefined;
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] as number) + (fields[4] as number);
  return { busy: total - idle, total };
}

/** Busy cores between two /proc/stat readings. */
export function busyCoresBetween(before: CpuTimes, after: CpuTimes, cores: number): number {
  const total = after.total - before.total;
  return total > 0 ? ((after.busy - before.busy) / total) * cores : 0;
}

export function summarizeCpuLoad(cores: number, busyCores: number | undefined, loadAverage1m: number | undefined, sampleMs: number): CpuLoad {
  const busy = busyCores ?? 0;
  const freeCores = Math.max(1, cores - Math.max(0, Math.ceil(busy - 0.25)));
  return {
    cores,
    ...(loadAverage1m === undefined ? {} : { loadAverage1m }),
    ...(busyCores === undefined ? {} : { busyCores }),
    freeCores,
    oversubscribed: busy >= cores / 2,
    sampleMs,
  };
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Sample /proc/stat over `sampleMs` (default 500) and read the load average. */
export async function readCpuLoad(sampleMs = 500, signal?: AbortSignal): Promise<CpuLoad> {
  const cores = availableParallelism();
  const first = parseProcStat((await readText("/proc/stat")) ?? "");
  await new Promise((resolve) => setTimeout(resolve, sampleMs));
  signal?.throwIfAborted();
  const second = parseProcStat((await readText("/proc/stat")) ?? "");
  const loadText = await readText("/proc/loadavg");
  const loadAverage1m = loadText === undefined ? undefined : Number(loadText.split(" ")[0]);
  const busy = first && second ? busyCoresBetween(first, second, cores) : undefined;
  return summarizeCpuLoad(cores, busy, Number.isFinite(loadAverage1m) ? loadAverage1m : undefined, sampleMs);
}
