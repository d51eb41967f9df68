import { release } from "node:os";
import type { OsInfo } from "./hardware-report.js";
import { parseOsRelease } from "./parse-system-files.js";
import { readOptionalText } from "./read-system-text.js";

function cleanModel(text: string | undefined): string | undefined {
  // Device-tree strings end with a NUL byte.
  const cleaned = text?.replace(/\0/g, "").trim();
  return cleaned ? cleaned : undefined;
}

export async function readLinuxOsInfo(signal?: AbortSignal): Promise<OsInfo> {
  const osReleaseText = (await readOptionalText("/etc/os-release", signal)) ?? (await readOptionalText("/usr/lib/os-release", signal));
  const osRelease = osReleaseText === undefined ? undefined : parseOsRelease(osReleaseText);
  const [deviceTreeModel, dmiProduct] = await Promise.all([
    readOptionalText("/proc/device-tree/model", signal),
    readOptionalText("/sys/class/dmi/id/product_name", signal),
  ]);
  return {
    platform: process.platform,
    release: release(),
    distro: osRelease?.get("PRETTY_NAME") ?? osRelease?.get("NAME") ?? "unknown",
    machineModel: cleanModel(deviceTreeModel) ?? cleanModel(dmiProduct) ?? "unknown",
  };
}

export function osInfoFromSysctl(values: ReadonlyMap<string, string>): OsInfo {
  const productVersion = values.get("kern.osproductversion");
  return {
    platform: process.platform,
    release: release(),
    distro: productVersion ? `macOS ${productVersion}` : "unknown",
    machineModel: values.get("hw.model") ?? "unknown",
  };
}
