import type { CpuVendor } from "./hardware-report.js";

/**
 * ARM /proc/cpuinfo has no "model name": it gives the implementer and part numbers (MIDR fields).
 * Names below are from the vendors' technical reference manuals (as listed in Linux's cputype.h).
 */
const implementers: Record<number, { vendor: CpuVendor; name: string }> = {
  0x41: { vendor: "arm", name: "Arm" },
  0x4e: { vendor: "nvidia", name: "NVIDIA" },
  0x51: { vendor: "qualcomm", name: "Qualcomm" },
  0x61: { vendor: "apple", name: "Apple" },
  0xc0: { vendor: "ampere", name: "Ampere" },
};

const armParts: Record<number, string> = {
  0xd03: "Cortex-A53",
  0xd04: "Cortex-A35",
  0xd05: "Cortex-A55",
  0xd07: "Cortex-A57",
  0xd08: "Cortex-A72",
  0xd09: "Cortex-A73",
  0xd0a: "Cortex-A75",
  0xd0b: "Cortex-A76",
  0xd0c: "Neoverse-N1",
  0xd0d: "Cortex-A77",
  0xd40: "Neoverse-V1",
  0xd41: "Cortex-A78",
  0xd42: "Cortex-A78AE",
  0xd44: "Cortex-X1",
  0xd46: "Cortex-A510",
  0xd47: "Cortex-A710",
  0xd48: "Cortex-X2",
  0xd49: "Neoverse-N2",
  0xd4b: "Cortex-A78C",
  0xd4d: "Cortex-A715",
  0xd4e: "Cortex-X3",
  0xd4f: "Neoverse-V2",
  0xd80: "Cortex-A520",
  0xd81: "Cortex-A720",
  0xd82: "Cortex-X4",
};

export function describeArmCpu(implementerText: string, partText: string | undefined): { vendor: CpuVendor; model?: string } {
  const implementer = implementers[Number.parseInt(implementerText, 16)];
  const vendor: CpuVendor = implementer?.vendor ?? "other";
  const partNumber = partText === undefined ? Number.NaN : Number.parseInt(partText, 16);
  const partName = implementer?.vendor === "arm" ? armParts[partNumber] : undefined;
  if (partName) return { vendor, model: partName };
  if (implementer && Number.isFinite(partNumber)) return { vendor, model: `${implementer.name} part 0x${partNumber.toString(16)}` };
  return { vendor };
}
