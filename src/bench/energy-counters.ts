import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { EnergyReading } from "../reports/bench-record.js";

const execFileAsync = promisify(execFile);
const powercapRoot = "/sys/class/powercap";

/** A counter snapshot; `read` again and `difference` gives joules spent in between. */
export interface EnergyCounter {
  source: "rapl" | "nvidia-smi";
  scope: string;
  read(): Promise<number[]>;
  /** Joules between two snapshots, handling counter wrap-around. */
  difference(before: number[], after: number[]): number;
}

export type EnergyProbe = { available: true; counter: EnergyCounter } | { available: false; reason: string };

/** RAPL package domains (intel-rapl:N, also used for AMD): energy_uj in microjoules, wrapping at max_energy_range_uj. */
export async function probeRapl(root = powercapRoot): Promise<EnergyProbe> {
  let entries: string[];
  try {
    entries = (await readdir(root)).filter((name) => /^intel-rapl:\d+$/.test(name)).sort();
  } catch {
    return { available: false, reason: `no RAPL counters (${root} is absent)` };
  }
  if (entries.length === 0) return { available: false, reason: `no RAPL package domains under ${root}` };
  const ranges: number[] = [];
  try {
    for (const entry of entries) {
      await readFile(join(root, entry, "energy_uj"), "utf8");
      ranges.push(Number((await readFile(join(root, entry, "max_energy_range_uj"), "utf8")).trim()));
    }
  } catch (error) {
    const denied = (error as NodeJS.ErrnoException).code === "EACCES";
    return {
      available: false,
      reason: denied ? "RAPL energy_uj is readable by root only here (chmod o+r or run as root)" : `cannot read RAPL counters: ${(error as Error).message}`,
    };
  }
  return {
    available: true,
    counter: {
      source: "rapl",
      scope: `CPU package domains ${entries.join(", ")} (whole package: every process on it)`,
      read: async () => Promise.all(entries.map(async (entry) => Number((await readFile(join(root, entry, "energy_uj"), "utf8")).trim()))),
      difference: (before, after) =>
        after.reduce((sum, value, index) => {
          const start = before[index] ?? value;
          const range = ranges[index] ?? 0;
          return sum + (value >= start ? value - start : value + range - start);
        }, 0) / 1e6,
    },
  };
}

/** nvidia-smi total_energy_consumption (millijoules since driver load), per GPU. */
export async function probeNvidiaSmi(command = "nvidia-smi"): Promise<EnergyProbe> {
  const query = async (): Promise<number[]> => {
    const { stdout } = await execFileAsync(command, ["--query-gpu=total_energy_consumption", "--format=csv,noheader,nounits"], { timeout: 5000 });
    return stdout
      .trim()
      .split("\n")
      .map((line) => Number(line.trim()));
  };
  let first: number[];
  try {
    first = await query();
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    return { available: false, reason: missing ? "nvidia-smi not found (no NVIDIA driver)" : `nvidia-smi failed: ${(error as Error).message.split("\n")[0]}` };
  }
  if (first.length === 0 || first.some((value) => !Number.isFinite(value))) {
    return { available: false, reason: "the GPU does not report total_energy_consumption" };
  }
  return {
    available: true,
    counter: {
      source: "nvidia-smi",
      scope: `${first.length} NVIDIA GPU(s), whole device`,
      read: query,
      difference: (before, after) => after.reduce((sum, value, index) => sum + (value - (before[index] ?? value)), 0) / 1000,
    },
  };
}

/** Energy of one timed section, divided over its runs. */
export async function measureEnergy<T>(
  probe: EnergyProbe,
  section: () => Promise<T>,
  runsOf: (result: T) => number,
): Promise<{ result: T; reading: EnergyReading }> {
  if (!probe.available) return { result: await section(), reading: { available: false, reason: probe.reason } };
  const before = await probe.counter.read();
  const result = await section();
  const after = await probe.counter.read();
  const joules = probe.counter.difference(before, after);
  const runs = Math.max(1, runsOf(result));
  return {
    result,
    reading: { available: true, source: probe.counter.source, scope: probe.counter.scope, joules, joulesPerInference: joules / runs },
  };
}
