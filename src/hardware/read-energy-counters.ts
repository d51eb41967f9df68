import type { EnergyCounter } from "./hardware-report.js";
import type { NvidiaSmiGpu } from "./parse-nvidia-smi.js";
import { readOptionalDir, readOptionalText, readSystemText } from "./read-system-text.js";

/** Why an energy_uj read failed, in words a user can act on. */
export function explainEnergyReadFailure(errno: string): string {
  if (errno === "EACCES" || errno === "EPERM") {
    return "permission denied: energy_uj is readable by root only since the PLATYPUS fix (CVE-2020-8694); run as root or grant read access to the file";
  }
  if (errno === "ENODATA" || errno === "EIO") return `the counter exists but the firmware returned no data (${errno})`;
  return `cannot read energy_uj (${errno})`;
}

/** Intel and AMD RAPL zones (intel-rapl:0 = package 0, intel-rapl:0:0 = its core/dram sub-zones). */
export async function readRaplCounters(signal?: AbortSignal, sysRoot = "/sys"): Promise<EnergyCounter[]> {
  return readRaplZones(`${sysRoot}/class/powercap`, signal);
}

/** The RAPL zones under one powercap folder, each with whether its energy_uj can be read and why not. */
export async function readRaplZones(powercapRoot: string, signal?: AbortSignal): Promise<EnergyCounter[]> {
  const zones = (await readOptionalDir(powercapRoot)).filter((name) => /^intel-rapl(:\d+)+$/.test(name));
  return Promise.all(
    zones.map(async (zone): Promise<EnergyCounter> => {
      const path = `${powercapRoot}/${zone}/energy_uj`;
      const [nameText, rangeText, energy] = await Promise.all([
        readOptionalText(`${powercapRoot}/${zone}/name`, signal),
        readOptionalText(`${powercapRoot}/${zone}/max_energy_range_uj`, signal),
        readSystemText(path, signal),
      ]);
      const range = Number(rangeText?.trim());
      const readable = energy.ok && /^\d+$/.test(energy.text.trim());
      return {
        kind: "rapl",
        name: nameText?.trim() || zone,
        path,
        readable,
        ...(readable ? {} : { reason: energy.ok ? "energy_uj holds no number" : explainEnergyReadFailure(energy.errno) }),
        ...(Number.isFinite(range) && range > 0 ? { maxEnergyRangeMicrojoules: range } : {}),
      };
    }),
  );
}

export function energyCountersFromNvidiaSmi(gpus: readonly NvidiaSmiGpu[]): EnergyCounter[] {
  return gpus.map((gpu) => ({
    kind: "nvidia-smi",
    name: `gpu-${gpu.index}`,
    readable: gpu.powerDrawWatts !== undefined,
    ...(gpu.powerDrawWatts !== undefined
      ? { powerDrawWatts: gpu.powerDrawWatts }
      : { reason: "nvidia-smi reports power.draw as not available for this board" }),
  }));
}
