import { describeDriver, vendorFromPciId } from "./device-vendors.js";
import type { GpuDevice, NpuDevice } from "./hardware-report.js";
import { nvidiaSmiQueryFields, parseNvidiaSmiCsv, type NvidiaSmiGpu } from "./parse-nvidia-smi.js";
import { parseUevent } from "./parse-system-files.js";
import { spawnCapture } from "../core/spawn-capture.js";
import { readOptionalDir, readOptionalText } from "./read-system-text.js";

const nvidiaSmiTimeoutMs = 4000;

export interface NvidiaSmiRead {
  gpus: NvidiaSmiGpu[];
  /** Why nvidia-smi gave nothing (absent binary, no driver, timeout). */
  reason?: string;
}

export async function spawnNvidiaSmi(signal?: AbortSignal): Promise<NvidiaSmiRead> {
  const result = await spawnCapture(
    "nvidia-smi",
    [`--query-gpu=${nvidiaSmiQueryFields.join(",")}`, "--format=csv,noheader,nounits"],
    { timeoutMs: nvidiaSmiTimeoutMs, ...(signal ? { signal } : {}) },
  );
  if (!result.ok) return { gpus: [], reason: result.reason };
  return { gpus: parseNvidiaSmiCsv(result.stdout) };
}

interface SysfsDevice {
  node: string;
  vendor?: string;
  driver?: string;
  pciSlot?: string;
}

/** A /sys/class/<class>/<node>/device: its PCI vendor and its kernel driver. */
async function readSysfsDevice(classDir: string, node: string, signal?: AbortSignal): Promise<SysfsDevice> {
  const [vendorText, ueventText] = await Promise.all([
    readOptionalText(`${classDir}/${node}/device/vendor`, signal),
    readOptionalText(`${classDir}/${node}/device/uevent`, signal),
  ]);
  const uevent = ueventText === undefined ? new Map<string, string>() : parseUevent(ueventText);
  const vendor = vendorText === undefined ? undefined : vendorFromPciId(vendorText);
  const driver = uevent.get("DRIVER");
  const pciSlot = uevent.get("PCI_SLOT_NAME");
  return { node, ...(vendor ? { vendor } : {}), ...(driver ? { driver } : {}), ...(pciSlot ? { pciSlot } : {}) };
}

/** `sysRoot` is "/sys" except in tests, which point it at a fixture tree. */
export async function readDrmGpus(signal?: AbortSignal, sysRoot = "/sys"): Promise<GpuDevice[]> {
  const classDir = `${sysRoot}/class/drm`;
  const renderNodes = (await readOptionalDir(classDir)).filter((name) => /^renderD\d+$/.test(name));
  const devices = await Promise.all(renderNodes.map((node) => readSysfsDevice(classDir, node, signal)));
  return devices.map((device) => {
    const known = device.driver ? describeDriver(device.driver) : undefined;
    const vendor = device.vendor ?? known?.vendor ?? "unknown";
    return {
      vendor,
      name: known?.name ?? `${vendor} GPU${device.driver ? ` (${device.driver})` : ""}`,
      // Only discrete PCI cards from these vendors have their own memory; sysfs does not say how much.
      sharesSystemMemory: !(device.pciSlot && (vendor === "nvidia" || vendor === "amd")),
      ...(device.driver ? { driver: device.driver } : {}),
      location: `/dev/dri/${device.node}`,
      source: "drm" as const,
    };
  });
}

export function gpusFromNvidiaSmi(gpus: readonly NvidiaSmiGpu[]): GpuDevice[] {
  return gpus.map((gpu) => ({
    vendor: "nvidia",
    name: gpu.name,
    ...(gpu.memoryBytes !== undefined ? { memoryBytes: gpu.memoryBytes } : {}),
    // Jetson boards report no dedicated memory: their GPU uses system RAM.
    sharesSystemMemory: gpu.memoryBytes === undefined,
    ...(gpu.driverVersion ? { driverVersion: gpu.driverVersion } : {}),
    ...(gpu.pciBusId ? { location: gpu.pciBusId } : {}),
    source: "nvidia-smi" as const,
  }));
}

export async function readLinuxNpus(signal?: AbortSignal, sysRoot = "/sys", devRoot = "/dev"): Promise<NpuDevice[]> {
  const classDir = `${sysRoot}/class/accel`;
  const accelNodes = (await readOptionalDir(classDir)).filter((name) => /^accel\d+$/.test(name));
  const devices = await Promise.all(accelNodes.map((node) => readSysfsDevice(classDir, node, signal)));
  const npus: NpuDevice[] = devices.map((device) => {
    const known = device.driver ? describeDriver(device.driver) : undefined;
    return {
      vendor: device.vendor ?? known?.vendor ?? "unknown",
      name: known?.name ?? `accelerator (${device.driver ?? "unknown driver"})`,
      devicePath: `/dev/accel/${device.node}`,
      ...(device.driver ? { driver: device.driver } : {}),
      source: "accel" as const,
    };
  });
  // Hailo's PCIe driver (Raspberry Pi AI Kit) predates the accel class and creates /dev/hailoN.
  for (const node of (await readOptionalDir(devRoot)).filter((name) => /^hailo\d+$/.test(name))) {
    npus.push({ vendor: "hailo", name: "Hailo AI accelerator", devicePath: `/dev/${node}`, driver: "hailo_pci", source: "hailo" });
  }
  return npus;
}

export function appleSiliconAccelerators(brand: string): { gpus: GpuDevice[]; npus: NpuDevice[] } {
  return {
    gpus: [{ vendor: "apple", name: `${brand} GPU (Metal)`, sharesSystemMemory: true, source: "apple-silicon" }],
    npus: [{ vendor: "apple", name: `${brand} Neural Engine`, source: "apple-silicon" }],
  };
}
