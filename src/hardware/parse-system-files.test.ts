import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseNvidiaSmiCsv } from "./parse-nvidia-smi.js";
import {
  countCpuList,
  countPhysicalCores,
  parseCacheSizeBytes,
  parseCgroupCpuMax,
  parseCgroupMemoryMax,
  parseMeminfo,
  parseOsRelease,
} from "./parse-system-files.js";

const fixture = (name: string) => readFileSync(new URL(`../../test/fixtures/hardware/${name}`, import.meta.url), "utf8");

describe("parseMeminfo", () => {
  it("reads MemTotal and MemAvailable in KiB", () => {
    expect(parseMeminfo(fixture("meminfo-raspberry-pi-5.txt"))).toEqual({
      totalMemoryBytes: 8245892 * 1024,
      availableMemoryBytes: 7589044 * 1024,
    });
  });

  it("falls back to MemFree + Cached on kernels without MemAvailable", () => {
    expect(parseMeminfo(fixture("meminfo-no-memavailable.txt")).availableMemoryBytes).toBe((512332 + 301544) * 1024);
  });

  it("returns nothing for unrelated text", () => {
    expect(parseMeminfo("garbage")).toEqual({});
  });
});

describe("parseOsRelease", () => {
  it("unquotes values", () => {
    const values = parseOsRelease(fixture("os-release-raspberry-pi-os.txt"));
    expect(values.get("PRETTY_NAME")).toBe("Debian GNU/Linux 12 (bookworm)");
    expect(values.get("VERSION_CODENAME")).toBe("bookworm");
  });
});

describe("sysfs values", () => {
  it("parses cache sizes with K/M suffixes", () => {
    expect(parseCacheSizeBytes("32K\n")).toBe(32 * 1024);
    expect(parseCacheSizeBytes("2M")).toBe(2 * 1024 * 1024);
    expect(parseCacheSizeBytes("512")).toBe(512);
    expect(parseCacheSizeBytes("lots")).toBeUndefined();
  });

  it("counts CPU lists", () => {
    expect(countCpuList("0-3,8,10-11\n")).toBe(7);
    expect(countCpuList("5")).toBe(1);
    expect(countCpuList("")).toBe(0);
  });

  it("counts physical cores as distinct sibling sets (SMT x86 and ARM alike)", () => {
    // Two cores with two hardware threads each: CPUs 0/2 and 1/3 share a core.
    expect(countPhysicalCores(["0,2", "1,3", "0,2", "1,3"])).toBe(2);
    // Raspberry Pi 5: no SMT, each CPU is its own core.
    expect(countPhysicalCores(["0", "1", "2", "3"])).toBe(4);
  });

  it("reads cgroup v2 limits", () => {
    expect(parseCgroupCpuMax("max 100000\n")).toBeUndefined();
    expect(parseCgroupCpuMax("150000 100000\n")).toBe(1.5);
    expect(parseCgroupMemoryMax("max\n")).toBeUndefined();
    expect(parseCgroupMemoryMax("4294967296\n")).toBe(4294967296);
  });
});

describe("parseNvidiaSmiCsv", () => {
  it("reads GPUs with memory in MiB and power in watts", () => {
    const gpus = parseNvidiaSmiCsv(fixture("nvidia-smi-query.csv"));
    expect(gpus).toHaveLength(2);
    expect(gpus[0]).toEqual({
      index: 0,
      name: "NVIDIA H100 80GB HBM3",
      memoryBytes: 81559 * 1024 * 1024,
      driverVersion: "550.90.07",
      pciBusId: "00000000:18:00.0",
      powerDrawWatts: 71.43,
    });
  });

  it("leaves out fields a Jetson reports as [N/A]", () => {
    const [gpu] = parseNvidiaSmiCsv(fixture("nvidia-smi-query-jetson.csv"));
    expect(gpu?.name).toBe("Orin (nvgpu)");
    expect(gpu?.memoryBytes).toBeUndefined();
    expect(gpu?.powerDrawWatts).toBeUndefined();
  });

  it("ignores error text nvidia-smi prints instead of rows", () => {
    expect(parseNvidiaSmiCsv("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n")).toEqual([]);
  });
});
