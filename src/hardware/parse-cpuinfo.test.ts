import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { featuresFromLinuxFlags } from "./cpu-features.js";
import { parseCpuinfo } from "./parse-cpuinfo.js";

const fixture = (name: string) => readFileSync(new URL(`../../test/fixtures/hardware/${name}`, import.meta.url), "utf8");

describe("parseCpuinfo", () => {
  it("reads a Raspberry Pi 5 (Cortex-A76): ARM part names, board model, NEON/dotprod/fp16 but no i8mm or SVE", () => {
    const facts = parseCpuinfo(fixture("cpuinfo-raspberry-pi-5.txt"));
    expect(facts.processorCount).toBe(4);
    expect(facts.vendor).toBe("arm");
    expect(facts.model).toBe("Cortex-A76");
    expect(facts.boardModel).toBe("Raspberry Pi 5 Model B Rev 1.0");
    // ARM cpuinfo has no "core id": the physical count must come from sysfs topology instead.
    expect(facts.physicalCores).toBeUndefined();
    expect(featuresFromLinuxFlags(facts.flags)).toEqual(["neon", "dotprod", "fp16"]);
  });

  it("reads a Sapphire Rapids Xeon: SMT siblings collapse to physical cores, AVX-512 and AMX are found", () => {
    const facts = parseCpuinfo(fixture("cpuinfo-xeon-sapphire-rapids.txt"));
    expect(facts.processorCount).toBe(4);
    expect(facts.physicalCores).toBe(2);
    expect(facts.vendor).toBe("intel");
    expect(facts.model).toBe("Intel(R) Xeon(R) Platinum 8480+");
    expect(facts.boardModel).toBeUndefined();
    expect(featuresFromLinuxFlags(facts.flags)).toEqual([
      "sse4.2",
      "avx",
      "avx2",
      "fma",
      "f16c",
      "avx512f",
      "avx512bw",
      "avx512vl",
      "avx512_vnni",
      "avx_vnni",
      "avx512_bf16",
      "avx512_fp16",
      "amx_tile",
      "amx_int8",
      "amx_bf16",
    ]);
  });

  it("reads an AMD EPYC virtual machine: AVX2 without AVX-512", () => {
    const facts = parseCpuinfo(fixture("cpuinfo-amd-epyc-vm.txt"));
    expect(facts.processorCount).toBe(2);
    expect(facts.physicalCores).toBe(2);
    expect(facts.vendor).toBe("amd");
    expect(facts.model).toBe("AMD EPYC");
    const features = featuresFromLinuxFlags(facts.flags);
    expect(features).toEqual(["sse4.2", "avx", "avx2", "fma", "f16c"]);
  });

  it("reads a Snapdragon 8 Gen 3 (big.LITTLE): i8mm and bf16 present, SVE not exposed", () => {
    const facts = parseCpuinfo(fixture("cpuinfo-snapdragon-8-gen-3.txt"));
    expect(facts.processorCount).toBe(8);
    expect(facts.model).toBe("Cortex-A520");
    const features = featuresFromLinuxFlags(facts.flags);
    expect(features).toEqual(["neon", "dotprod", "i8mm", "fp16", "bf16"]);
    expect(features).not.toContain("sve");
  });

  it("survives empty and truncated text", () => {
    expect(parseCpuinfo("")).toEqual({ processorCount: 0, vendor: "unknown", flags: [] });
    const truncated = parseCpuinfo("processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: sse4_2 avx");
    expect(truncated.vendor).toBe("intel");
    expect(featuresFromLinuxFlags(truncated.flags)).toEqual(["sse4.2", "avx"]);
  });

  it("names unknown ARM parts by implementer instead of guessing", () => {
    const facts = parseCpuinfo("processor\t: 0\nFeatures\t: fp asimd\nCPU implementer\t: 0x61\nCPU part\t: 0x22\n");
    expect(facts.vendor).toBe("apple");
    expect(facts.model).toBe("Apple part 0x22");
  });
});
