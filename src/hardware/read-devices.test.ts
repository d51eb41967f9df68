import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gpusFromNvidiaSmi, readDrmGpus, readLinuxNpus } from "./read-accelerators.js";
import { energyCountersFromNvidiaSmi, explainEnergyReadFailure, readRaplCounters } from "./read-energy-counters.js";
import { makeTempDir } from "../../test/fixtures/temp-dir.js";

/** A miniature /sys and /dev laid out like the kernel's, so the readers run on real files. */
let root: string;

async function put(path: string, text: string): Promise<void> {
  await mkdir(join(root, path, ".."), { recursive: true });
  await writeFile(join(root, path), text);
}

beforeAll(async () => {
  root = await makeTempDir("sysfs-");
  // An Intel iGPU (PCI) and a Raspberry Pi V3D (platform device, no PCI vendor file).
  await put("sys/class/drm/renderD128/device/vendor", "0x8086\n");
  await put("sys/class/drm/renderD128/device/uevent", "DRIVER=i915\nPCI_CLASS=30000\nPCI_SLOT_NAME=0000:00:02.0\n");
  await put("sys/class/drm/renderD129/device/uevent", "DRIVER=v3d\nOF_NAME=v3d\n");
  await put("sys/class/drm/card0/device/uevent", "DRIVER=i915\n");
  // An Intel NPU on the accel class, and a Hailo module's device node.
  await put("sys/class/accel/accel0/device/vendor", "0x8086\n");
  await put("sys/class/accel/accel0/device/uevent", "DRIVER=intel_vpu\nPCI_SLOT_NAME=0000:00:0b.0\n");
  await put("dev/hailo0", "");
  // RAPL: a readable package zone, and a zone whose counter cannot be read.
  await put("sys/class/powercap/intel-rapl:0/name", "package-0\n");
  await put("sys/class/powercap/intel-rapl:0/energy_uj", "123456789\n");
  await put("sys/class/powercap/intel-rapl:0/max_energy_range_uj", "262143328850\n");
  await put("sys/class/powercap/intel-rapl:0:0/name", "core\n");
  await mkdir(join(root, "sys/class/powercap/intel-rapl:0:0/energy_uj"), { recursive: true });
  await put("sys/class/powercap/intel-rapl-mmio:0/name", "package-0\n");
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("readDrmGpus", () => {
  it("names GPUs by PCI vendor or by platform driver, render nodes only", async () => {
    const gpus = await readDrmGpus(undefined, join(root, "sys"));
    expect(gpus).toEqual([
      { vendor: "intel", name: "Intel graphics (i915)", sharesSystemMemory: true, driver: "i915", location: "/dev/dri/renderD128", source: "drm" },
      { vendor: "broadcom", name: "Broadcom VideoCore (V3D)", sharesSystemMemory: true, driver: "v3d", location: "/dev/dri/renderD129", source: "drm" },
    ]);
  });

  it("finds nothing (and does not throw) where /sys/class/drm is absent", async () => {
    expect(await readDrmGpus(undefined, join(root, "missing"))).toEqual([]);
  });
});

describe("readLinuxNpus", () => {
  it("finds accel-class NPUs and Hailo device nodes", async () => {
    const npus = await readLinuxNpus(undefined, join(root, "sys"), join(root, "dev"));
    expect(npus).toEqual([
      { vendor: "intel", name: "Intel NPU (intel_vpu)", devicePath: "/dev/accel/accel0", driver: "intel_vpu", source: "accel" },
      { vendor: "hailo", name: "Hailo AI accelerator", devicePath: "/dev/hailo0", driver: "hailo_pci", source: "hailo" },
    ]);
  });
});

describe("energy counters", () => {
  it("reads RAPL zones and says why one cannot be read", async () => {
    const counters = await readRaplCounters(undefined, join(root, "sys"));
    expect(counters).toHaveLength(2);
    expect(counters[0]).toMatchObject({ kind: "rapl", name: "package-0", readable: true, maxEnergyRangeMicrojoules: 262143328850 });
    expect(counters[1]).toMatchObject({ kind: "rapl", name: "core", readable: false, reason: "cannot read energy_uj (EISDIR)" });
  });

  it("explains permission failures with the PLATYPUS restriction", () => {
    expect(explainEnergyReadFailure("EACCES")).toMatch(/root only.*CVE-2020-8694/);
  });

  it("turns nvidia-smi power readings into counters, unreadable where the board reports none", () => {
    const counters = energyCountersFromNvidiaSmi([
      { index: 0, name: "NVIDIA H100 80GB HBM3", powerDrawWatts: 71.43 },
      { index: 1, name: "Orin (nvgpu)" },
    ]);
    expect(counters[0]).toEqual({ kind: "nvidia-smi", name: "gpu-0", readable: true, powerDrawWatts: 71.43 });
    expect(counters[1]?.readable).toBe(false);
  });

  it("marks GPUs without dedicated memory as sharing system memory (Jetson)", () => {
    const [discrete, jetson] = gpusFromNvidiaSmi([
      { index: 0, name: "NVIDIA H100 80GB HBM3", memoryBytes: 81559 * 1024 * 1024 },
      { index: 1, name: "Orin (nvgpu)" },
    ]);
    expect(discrete?.sharesSystemMemory).toBe(false);
    expect(jetson?.sharesSystemMemory).toBe(true);
  });
});
