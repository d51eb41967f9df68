import { readFile } from "node:fs/promises";
import { spawnCapture } from "../core/spawn-capture.js";
import { readRaplZones } from "../hardware/read-energy-counters.js";
import type { EnergyReading } from "../reports/bench-record.js";

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
  // Sub-zones (intel-rapl:0:0, core/dram) are inside their package's figure: only packages are summed.
  const packages = (await readRaplZones(root)).filter((zone) => /\/intel-rapl:\d+\/energy_uj$/.test(zone.path ?? ""));
  if (packages.length === 0) return { available: false, reason: `no RAPL package domains under ${root}` };
  const unreadable = packages.find((zone) => !zone.readable);
  if (unreadable) return { available: false, reason: `cannot read RAPL counter ${unreadable.name}: ${unreadable.reason ?? "unknown reason"}` };
  const paths = packages.map((zone) => zone.path as string);
  const ranges = packages.map((zone) => zone.maxEnergyRangeMicrojoules ?? 0);
  return {
    available: true,
    counter: {
      source: "rapl",
      scope: `CPU package domains ${packages.map((zone) => zone.name).join(", ")} (whole package: every process on it)`,
      read: async () => Promise.all(paths.map(async (path) => Number((await readFile(path, "utf8")).trim()))),
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
  const run = () => spawnCapture(command, ["--query-gpu=total_energy_consumption", "--format=csv,noheader,nounits"], { timeoutMs: 5000 });
  const parse = (stdout: string): number[] =>
    stdout
      .trim()
      .split("\n")
      .map((line) => Number(line.trim()));
  const probe = await run();
  if (!probe.ok) return { available: false, reason: probe.missing ? "nvidia-smi not found (no NVIDIA driver)" : probe.reason };
  const first = parse(probe.stdout);
  const query = async (): Promise<number[]> => {
    const result = await run();
    if (!result.ok) throw new Error(`energy counter read failed: ${result.reason}`);
    return parse(result.stdout);
  };
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
