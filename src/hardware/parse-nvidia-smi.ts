/** The fields asked of nvidia-smi, in this order (`--format=csv,noheader,nounits`). */
export const nvidiaSmiQueryFields = ["index", "name", "memory.total", "driver_version", "pci.bus_id", "power.draw"] as const;

export interface NvidiaSmiGpu {
  index: number;
  name: string;
  memoryBytes?: number;
  driverVersion?: string;
  pciBusId?: string;
  /** Absent when the board does not report power ("[N/A]", "[Not Supported]"). */
  powerDrawWatts?: number;
}

function reported(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === "" || trimmed.startsWith("[") ? undefined : trimmed;
}

/** Parse `nvidia-smi --query-gpu=<nvidiaSmiQueryFields> --format=csv,noheader,nounits` output (memory in MiB, power in W). */
export function parseNvidiaSmiCsv(text: string): NvidiaSmiGpu[] {
  const gpus: NvidiaSmiGpu[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const [index, name, memoryMib, driver, busId, power] = line.split(",").map(reported);
    if (index === undefined || name === undefined || !/^\d+$/.test(index)) continue;
    const memory = memoryMib === undefined ? Number.NaN : Number(memoryMib);
    const watts = power === undefined ? Number.NaN : Number(power);
    gpus.push({
      index: Number(index),
      name,
      ...(Number.isFinite(memory) ? { memoryBytes: memory * 1024 * 1024 } : {}),
      ...(driver ? { driverVersion: driver } : {}),
      ...(busId ? { pciBusId: busId } : {}),
      ...(Number.isFinite(watts) ? { powerDrawWatts: watts } : {}),
    });
  }
  return gpus;
}
